package handlers

import (
	"encoding/csv"
	"net/http"

	"github.com/labstack/echo/v4"
)

// csvExport streams a CSV download row by row: the header goes with the
// first row, so an error before any row is still answered as an error
// page, and an empty export is the header alone.
type csvExport struct {
	res     *echo.Response
	w       *csv.Writer
	header  []string
	started bool
}

// newCSVExport answers c with a CSV attachment named name-<UTC time>.csv.
func (s *Server) newCSVExport(c echo.Context, name string, header []string) *csvExport {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set("Content-Disposition", `attachment; filename="`+name+`-`+s.now().UTC().Format("20060102-150405")+`.csv"`)
	res.Header().Set("Cache-Control", "no-store")
	return &csvExport{res: res, w: csv.NewWriter(res), header: header}
}

// Row writes one row (the header first) and sends it on.
func (x *csvExport) Row(row []string) error {
	x.start()
	x.w.Write(row)
	x.w.Flush()
	return x.w.Error()
}

func (x *csvExport) start() {
	if !x.started {
		x.res.WriteHeader(http.StatusOK)
		x.w.Write(x.header)
		x.started = true
	}
}

// Finish ends the export after the rows: err, the rows' error, is returned
// for handleError when nothing was sent yet; once rows went out it can only
// end the download early.
func (x *csvExport) Finish(err error) error {
	if err != nil && !x.started {
		return err
	}
	x.start()
	x.w.Flush()
	return nil
}
