package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services/blocklists"
	"bangui/services/configuration"
	"bangui/services/setup"
)

// formContext is an Echo context of a POST with form as its body.
func formContext(form url.Values, contentType string) echo.Context {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, contentType)
	return echo.New().NewContext(req, httptest.NewRecorder())
}

func bindTest[T any](t *testing.T, form url.Values) T {
	t.Helper()
	var in T
	if err := bindForm(formContext(form, echo.MIMEApplicationForm), &in); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestBindFormNames: the input types bind the field names the services
// validate and report errors under, so a refused value is shown at its
// field and an accepted one reaches the service.
func TestBindFormNames(t *testing.T) {
	jail := bindTest[jailInput](t, url.Values{
		configuration.FieldBanTime: {"1h"}, configuration.FieldFindTime: {"10m"}, configuration.FieldMaxRetry: {"3"},
		configuration.FieldFailRegex: {"fail <HOST>"}, configuration.FieldIgnoreRegex: {"ok"}, configuration.FieldDatePattern: {"%%Y"},
		configuration.FieldLogEncoding: {"utf-8"}, configuration.FieldLogPath: {"/var/log/a"}, configuration.FieldAction: {"iptables"},
		configuration.FieldIncEnabled: {"on"}, configuration.FieldIncFactor: {"2"}, configuration.FieldIncFormula: {"f"},
		configuration.FieldIncMultipliers: {"1 2"}, configuration.FieldIncMaxTime: {"1w"}, configuration.FieldIncRndTime: {"5m"},
		configuration.FieldIncOverall: {"true"},
	})
	want := models.JailForm{BanTime: "1h", FindTime: "10m", MaxRetry: "3", FailRegex: "fail <HOST>", IgnoreRegex: "ok",
		DatePattern: "%%Y", LogEncoding: "utf-8", LogPath: "/var/log/a", Actions: "iptables", IncEnabled: true,
		IncFactor: "2", IncFormula: "f", IncMultipliers: "1 2", IncMaxTime: "1w", IncRndTime: "5m", IncOverall: true}
	if got := jail.form(); got != want {
		t.Errorf("jail form:\n got %+v\nwant %+v", got, want)
	}

	nj := bindTest[newJailInput](t, url.Values{configuration.FieldJailName: {"web"}, configuration.FieldFilter: {"sshd"},
		configuration.FieldLogPath: {"/l"}, configuration.FieldMaxRetry: {"5"}, configuration.FieldBanTime: {"1h"}, configuration.FieldFindTime: {"1m"}, "enabled": {"on"}})
	if got, want := nj.form(), (models.NewJailForm{Name: "web", Filter: "sshd", LogPath: "/l", MaxRetry: "5", BanTime: "1h", FindTime: "1m", Enabled: true}); got != want {
		t.Errorf("new jail form:\n got %+v\nwant %+v", got, want)
	}

	item := bindTest[itemInput](t, url.Values{configuration.FieldItemName: {"f"}, configuration.FieldFailRegex: {"a"}, configuration.FieldIgnoreRegex: {"b"},
		configuration.FieldDatePattern: {"c"}, configuration.FieldPrefRegex: {"d"}, "actionstart": {"s"}, "actionstop": {"t"}, "actioncheck": {"u"},
		"actionban": {"v"}, "actionunban": {"w"}, configuration.FieldNewKey: {"k"}, configuration.FieldNewValue: {"x"}})
	if item.Name != "f" || models.FilterForm(item.Filter) != (models.FilterForm{FailRegex: "a", IgnoreRegex: "b", DatePattern: "c", PrefRegex: "d"}) ||
		item.Action != (actionInput{ActionStart: "s", ActionStop: "t", ActionCheck: "u", ActionBan: "v", ActionUnban: "w", NewKey: "k", NewValue: "x"}) {
		t.Errorf("item form: %+v", item)
	}

	srv := bindTest[serverInput](t, url.Values{configuration.FieldLogLevel: {"INFO"}, configuration.FieldLogTarget: {"STDOUT"},
		configuration.FieldDBPurgeAge: {"1d"}, configuration.FieldDBMaxMatches: {"10"}})
	if got, want := models.ServerForm(srv), (models.ServerForm{LogLevel: "INFO", LogTarget: "STDOUT", DBPurgeAge: "1d", DBMaxMatches: "10"}); got != want {
		t.Errorf("server form: %+v", got)
	}

	rx := bindTest[regexInput](t, url.Values{configuration.FieldFailRegex: {"a"}, configuration.FieldIgnoreRegex: {"b"}, configuration.FieldDatePattern: {"c"},
		configuration.FieldRegexLines: {"d"}, configuration.FieldRegexLogFile: {"e"}, configuration.FieldRegexLogN: {"f"}})
	if got, want := models.RegexForm(rx), (models.RegexForm{FailRegex: "a", IgnoreRegex: "b", DatePattern: "c", Lines: "d", LogFile: "e", LogLines: "f"}); got != want {
		t.Errorf("regex form: %+v", got)
	}

	raw := bindTest[rawInput](t, url.Values{configuration.FieldRawFile: {"jail.local"}, configuration.FieldRawContent: {"[x]"}})
	if raw != (rawInput{File: "jail.local", Content: "[x]"}) {
		t.Errorf("raw form: %+v", raw)
	}

	setupForm := bindTest[setupInput](t, url.Values{models.SetupFieldPassword: {"a"}, models.SetupFieldConfirm: {"b"}, models.SetupFieldSocket: {"c"},
		models.SetupFieldConfigDir: {"d"}, models.SetupFieldTimezone: {"e"}, models.SetupFieldSessionMinutes: {"f"}, models.SetupFieldCode: {"g"}})
	if got, want := setup.Input(setupForm), (setup.Input{Password: "a", Confirm: "b", Socket: "c", ConfigDir: "d", Timezone: "e", SessionMinutes: "f", Code: "g"}); got != want {
		t.Errorf("setup form: %+v", got)
	}

	src := bindTest[sourceInput](t, url.Values{blocklists.FieldSourceName: {"n"}, blocklists.FieldSourceURL: {"https://x"}, "enabled": {"on"},
		blocklists.FieldHosts: {"local", "web2"}, "hosts_all": {"on"}})
	if !reflect.DeepEqual(src, sourceInput{Name: "n", URL: "https://x", Enabled: true, Hosts: []string{"local", "web2"}, AllHosts: true}) {
		t.Errorf("source form: %+v", src)
	}
}

// TestCheckboxValues: a checkbox is ticked by what the pages send ("on")
// and by what earlier pages sent ("true", "1"); nothing else ticks it.
func TestCheckboxValues(t *testing.T) {
	for v, want := range map[string]bool{"on": true, "true": true, "1": true, "off": false, "false": false, "": false, "yes": false, "ON ": false} {
		if got := bindTest[sourceInput](t, url.Values{"enabled": {v}}).Enabled; bool(got) != want {
			t.Errorf("enabled=%q: ticked %v, want %v", v, got, want)
		}
		if ticked(v) != want {
			t.Errorf("ticked(%q) = %v", v, !want)
		}
	}
	if bindTest[sourceInput](t, url.Values{"name": {"n"}}).Enabled {
		t.Error("an unticked checkbox (absent) counts as ticked")
	}
}

// TestBindFormBodyThatIsNoForm: a body that is not a form binds nothing and
// is no error, as reading the fields one by one did.
func TestBindFormBodyThatIsNoForm(t *testing.T) {
	var in rawInput
	if err := bindForm(formContext(url.Values{"file": {"x"}}, "text/plain"), &in); err != nil || in != (rawInput{}) {
		t.Errorf("text/plain body: %+v, %v", in, err)
	}
}
