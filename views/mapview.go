package views

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"bangui/assets"
	"bangui/lang"
	"bangui/models"
)

// MapPage is the world map page's data.
type MapPage struct {
	Shapes     models.WorldMap
	Credit     string  // where the shapes come from
	Filters    Filters // range and origin, for the filter links
	Country    string  // selected: an ISO code, "unknown" or ""
	Counts     map[string]int64
	Ranked     []models.CountryCount // countries with bans, most first
	Total      int64                 // bans in the window
	Unknown    int64                 // of those, without a known country
	Thresholds models.MapThresholds
	Table      MapTable
	Geo        models.GeoStatus
	Form       ThresholdsForm
}

// MapTable is one page of the bans below the map.
type MapTable struct {
	ID    string
	Bans  []models.BanRecord
	Geo   map[string]models.GeoInfo // where the addresses are; else the record's country
	Pager Pager
	Empty string
	Bulk  *BulkSelect // rows can be selected for bulk actions; nil: they cannot
}

// recordGeo is where a record's address is: from the lookup map, else the
// country the record carries.
func recordGeo(m map[string]models.GeoInfo, b models.BanRecord) models.GeoInfo {
	if g, ok := m[b.IP]; ok {
		return g
	}
	return GeoOf(b.Country)
}

// ThresholdsForm is the map colour form, re-shown with errors after a refused submit.
type ThresholdsForm struct {
	Low    string `form:"low"`
	Medium string `form:"medium"`
	High   string `form:"high"`
	Errors map[string][]string
}

// CountryUnknown is the country filter value of the bans without a country.
const CountryUnknown = "unknown"

// countryLink is the map URL that selects code, or clears the selection
// when code is already selected (the second click).
func (p MapPage) countryLink(code string) string {
	q := url.Values{}
	for k, v := range p.Filters.Values {
		q[k] = v
	}
	q.Del("page")
	q.Del("country")
	if code != p.Country {
		q.Set("country", code)
	}
	return withQuery("/map", q)
}

// clearLink is the map URL without a country.
func (p MapPage) clearLink() string { return p.countryLink(p.Country) }

// selectedName names the selected country for people.
func (p MapPage) selectedName(ctx context.Context) string {
	if p.Country == CountryUnknown {
		return lang.T(ctx, "map.unknown_countries")
	}
	return lang.Country(ctx, p.Country, models.CountryName(p.Country))
}

// LiveRange is the one window whose map the live pages keep current.
const LiveRange = "24h"

// Live reports whether the page shows the map the live "map" event
// carries: the 24 hours of every origin (other windows stay as loaded).
func (p MapPage) Live() bool {
	r := p.Filters.Values.Get("range")
	return (r == "" || r == LiveRange) && p.Filters.Values.Get("origin") == ""
}

// countryTitle is a country's tooltip and accessible name.
func countryTitle(ctx context.Context, name string, n int64) string {
	if n == 0 {
		return lang.T(ctx, "map.title_none", "Country", name)
	}
	return lang.N(ctx, "map.title_n", int(n), "Country", name)
}

// rangeLabel is the window in words.
func rangeLabel(ctx context.Context, v string) string {
	for _, o := range RangeOptions {
		if o.Value == v {
			return filterOptionLabel(ctx, "range", o)
		}
	}
	return lang.T(ctx, "filter.range_24h")
}

// summary is the line above the map: bans and countries, ending with ";"
// when the link to the unknown ones follows.
func (p MapPage) summary(ctx context.Context) string {
	end := "."
	if p.Unknown > 0 {
		end = ";" // the link to the unknown ones follows
	}
	return lang.T(ctx, "map.summary", "Bans", lang.N(ctx, "map.n_bans", int(p.Total)), "Countries", lang.N(ctx, "map.n_countries", len(p.Ranked)),
		"Range", rangeLabel(ctx, p.Filters.Values.Get("range")), "End", end)
}

// RGB anchors of the colour scale: one ban, low, medium and high.
var mapAnchors = [4][3]float64{{0xfe, 0xe8, 0xc8}, {0xfd, 0xbb, 0x84}, {0xfc, 0x8d, 0x59}, {0xd7, 0x30, 0x1f}}

// mapFill is the colour of a country with n bans: interpolated between the
// anchors at 1, Low, Medium and High; High and above get the darkest.
func mapFill(n int64, t models.MapThresholds) string {
	if n <= 0 {
		return ""
	}
	stops := [4]float64{1, float64(t.Low), float64(t.Medium), float64(t.High)}
	v := float64(n)
	c := mapAnchors[3]
	for i := 0; i < 3; i++ {
		if v < stops[i+1] {
			f := 0.0
			if stops[i+1] > stops[i] {
				f = (v - stops[i]) / (stops[i+1] - stops[i])
			}
			f = max(0, min(1, f))
			for k := range 3 {
				c[k] = mapAnchors[i][k] + f*(mapAnchors[i+1][k]-mapAnchors[i][k])
			}
			break
		}
	}
	return fmt.Sprintf("#%02x%02x%02x", int(c[0]+0.5), int(c[1]+0.5), int(c[2]+0.5))
}

// legend is the colour scale's steps for the key under the map.
func (p MapPage) legend() []legendStep {
	t := p.Thresholds
	return []legendStep{
		{"1", mapFill(1, t)},
		{strconv.FormatInt(t.Low, 10), mapFill(t.Low, t)},
		{strconv.FormatInt(t.Medium, 10), mapFill(t.Medium, t)},
		{strconv.FormatInt(t.High, 10) + "+", mapFill(t.High, t)},
	}
}

type legendStep struct{ Label, Fill string }

// labelSize is the font size of a count label: larger for bigger counts.
func labelSize(n int64) string {
	switch {
	case n >= 10000:
		return "18"
	case n >= 100:
		return "21"
	}
	return "24"
}

func fmtCoord(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

func (p MapPage) viewBox() string {
	return "0 0 " + fmtCoord(p.Shapes.Width) + " " + fmtCoord(p.Shapes.Height)
}

// tabIndex keeps countries without bans out of the tab order (they stay
// links, reachable by pointer and by a screen reader's link list); the
// list of countries below the map offers the same choices.
func tabIndex(n int64, selected bool) string {
	if n > 0 || selected {
		return "0"
	}
	return "-1"
}

// geoCredit is the attribution of a known country database, by file name.
func geoCredit(path string) string {
	if strings.Contains(filepath.Base(path), "geo-whois-asn-country") {
		return "Country data: ip-location-db (geo-whois-asn-country), from RIR data by the NRO (nro.net), CC BY 4.0."
	}
	return ""
}

// mapCredit is the shapes' attribution in the request's language.
func mapCredit(ctx context.Context, credit string) string {
	if credit == assets.WorldMapCredit {
		return lang.T(ctx, "map.credit")
	}
	return credit
}
