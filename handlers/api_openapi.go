package handlers

import (
	_ "embed"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiOpenAPIDoc is the API's OpenAPI 3 document, written by hand next to
// the route table (apiRouteTable); TestAPIOpenAPIMatchesRoutes holds the
// two together and validates the document.
//
//go:embed api_openapi.json
var apiOpenAPIDoc []byte

// apiOpenAPI serves the document with the server URL under the panel's
// base path.
func (s *Server) apiOpenAPI(c echo.Context) error {
	var doc map[string]any
	if err := json.Unmarshal(apiOpenAPIDoc, &doc); err != nil {
		return err
	}
	doc["servers"] = []map[string]string{{"url": s.url(apiPrefix)}}
	return c.JSON(http.StatusOK, doc)
}
