package assets

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"bangui/models"
)

// worldMap is the simplified world map (see scripts/gen-worldmap and VENDOR.md).
//
//go:embed map/world.txt
var worldMap string

// WorldMapCredit names the source of the map's shapes, shown under the map.
const WorldMapCredit = "Country shapes: @svg-maps/world by Victor Cazanave, based on MapSVG, CC BY 4.0 (simplified)."

// WorldMap parses the embedded world map. Call it once at start.
func WorldMap() (models.WorldMap, error) {
	var m models.WorldMap
	for n, line := range strings.Split(worldMap, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "viewbox "); ok {
			if _, err := fmt.Sscanf(rest, "%g %g", &m.Width, &m.Height); err != nil {
				return m, fmt.Errorf("assets: world map line %d: %w", n+1, err)
			}
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			return m, fmt.Errorf("assets: world map line %d: want code, label and path", n+1)
		}
		xs, ys, ok := strings.Cut(parts[1], ",")
		x, errX := strconv.ParseFloat(xs, 64)
		y, errY := strconv.ParseFloat(ys, 64)
		if !ok || errX != nil || errY != nil {
			return m, fmt.Errorf("assets: world map line %d: bad label %q", n+1, parts[1])
		}
		m.Countries = append(m.Countries, models.CountryShape{
			Code: parts[0], Name: models.CountryName(parts[0]), Path: parts[2], LabelX: x, LabelY: y,
		})
	}
	if m.Width <= 0 || len(m.Countries) == 0 {
		return m, fmt.Errorf("assets: world map is empty")
	}
	return m, nil
}
