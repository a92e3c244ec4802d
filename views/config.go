package views

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"bangui/lang"
	"bangui/models"
)

// Tabs of the configuration page.
const (
	ConfigTabJails   = "jails"
	ConfigTabFilters = "filters"
	ConfigTabActions = "actions"
	ConfigTabRaw     = "raw"
	ConfigTabServer  = "server"
	ConfigTabRegex   = "regex"
	ConfigTabLog     = "log"
)

type configTab struct{ id, path string }

var configTabs = []configTab{
	{ConfigTabJails, "/config"},
	{ConfigTabFilters, "/config/filters"},
	{ConfigTabActions, "/config/actions"},
	{ConfigTabRaw, "/config/raw"},
	{ConfigTabServer, "/config/server"},
	{ConfigTabRegex, "/config/regex"},
	{ConfigTabLog, "/config/log"},
}

// configTabLabel is the name of the configuration tab id.
func configTabLabel(ctx context.Context, id string) string {
	switch id {
	case ConfigTabJails:
		return lang.T(ctx, "nav.jails")
	case ConfigTabFilters:
		return lang.T(ctx, "config.tab.filters")
	case ConfigTabActions:
		return lang.T(ctx, "config.tab.actions")
	case ConfigTabRaw:
		return lang.T(ctx, "config.tab.raw")
	case ConfigTabServer:
		return lang.T(ctx, "config.tab.server")
	case ConfigTabRegex:
		return lang.T(ctx, "config.tab.regex")
	}
	return lang.T(ctx, "config.tab.log")
}

// rawURL is the raw editor with the file name opened.
func rawURL(name string) string { return "/config/raw?file=" + url.QueryEscape(name) }

// sourceText writes where a setting is written: file:line.
func sourceText(s models.ConfigSource) string {
	if s.File == "" {
		return "—"
	}
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// joinNames lists names with commas, or says empty.
func joinNames(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, ", ")
}

func nString(n int) string { return strconv.Itoa(n) }

// configTabPath is the path of a configuration tab ("/config" for an
// unknown one).
func configTabPath(tab string) string {
	for _, t := range configTabs {
		if t.id == tab {
			return t.path
		}
	}
	return "/config"
}

// actingHost is the host a page that acts on one host (a configuration
// page, a jail's page) acts on: the selected one, or the panel's own host
// (the first of Request.Hosts) when none is selected.
func actingHost(ctx context.Context) HostOption {
	r := RequestFrom(ctx)
	for _, h := range r.Hosts {
		if h.ID == r.Host {
			return h
		}
	}
	if len(r.Hosts) > 0 {
		return r.Hosts[0]
	}
	return HostOption{}
}

// msgText is a message of the layers below in the page's language.
func msgText(ctx context.Context, m lang.Message) string { return m.In(lang.From(ctx)) }
