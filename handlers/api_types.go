package handlers

import (
	"time"

	"bangui/models"
)

// The API's JSON shapes. They are the API's contract (see the OpenAPI
// document): field names are snake_case and never change meaning; the
// models they are made from may change freely.

// apiHostStatus is one host in GET /status.
type apiHostStatus struct {
	Host        string     `json:"host"`
	Name        string     `json:"name"`
	Online      bool       `json:"online"`
	Version     string     `json:"version,omitempty"`
	ActiveJails int        `json:"active_jails"`
	Banned      int64      `json:"banned"`
	Failed      int64      `json:"failed"`
	CheckedAt   *time.Time `json:"checked_at,omitempty"`
	LastContact *time.Time `json:"last_contact,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// apiJail is one jail's counters and main settings.
type apiJail struct {
	Name            string `json:"name"`
	Running         bool   `json:"running"`
	Idle            bool   `json:"idle"`
	CurrentlyFailed int64  `json:"currently_failed"`
	TotalFailed     int64  `json:"total_failed"`
	CurrentlyBanned int64  `json:"currently_banned"`
	TotalBanned     int64  `json:"total_banned"`
	BanTimeSeconds  int64  `json:"ban_time_seconds"` // negative: permanent
	FindTimeSeconds int64  `json:"find_time_seconds"`
	MaxRetry        int64  `json:"max_retry"`
}

// apiJailDetail is GET /jails/{name}.
type apiJailDetail struct {
	apiJail
	Host       string   `json:"host"`
	Backend    string   `json:"backend"`
	Actions    []string `json:"actions"`
	LogPaths   []string `json:"log_paths"`
	IgnoreIPs  []string `json:"ignore_ips"`
	IgnoreSelf bool     `json:"ignore_self"`
}

// apiHostJails is one host's part of GET /jails.
type apiHostJails struct {
	Host  string    `json:"host"`
	Jails []apiJail `json:"jails"`
	Error *APIError `json:"error,omitempty"`
}

// apiActiveBan is an address banned right now.
type apiActiveBan struct {
	IP        string     `json:"ip"`
	Jail      string     `json:"jail"`
	Start     *time.Time `json:"start,omitempty"`
	End       *time.Time `json:"end,omitempty"` // absent when permanent
	Permanent bool       `json:"permanent"`
}

// apiBanPage is GET /bans.
type apiBanPage struct {
	Host  string         `json:"host"`
	Page  int            `json:"page"`
	Size  int            `json:"size"`
	Total int64          `json:"total"`
	Bans  []apiActiveBan `json:"bans"`
}

// apiBanEvent is one event of the ban history.
type apiBanEvent struct {
	Host           string   `json:"host"`
	Jail           string   `json:"jail"`
	IP             string   `json:"ip"`
	Time           string   `json:"time"` // RFC 3339, UTC
	Action         string   `json:"action"`
	Origin         string   `json:"origin"`
	BanTimeSeconds int64    `json:"ban_time_seconds"` // -1: permanent
	BanCount       int64    `json:"ban_count"`
	Failures       int64    `json:"failures"`
	Country        string   `json:"country,omitempty"`
	Matches        []string `json:"matches,omitempty"`
}

// apiHistoryPage is GET /history.
type apiHistoryPage struct {
	Page   int           `json:"page"`
	Size   int           `json:"size"`
	Total  int64         `json:"total"`
	Note   string        `json:"note,omitempty"` // why another source was read than asked for
	Events []apiBanEvent `json:"events"`
}

// apiIPReport is GET /history/{ip}.
type apiIPReport struct {
	IP       string        `json:"ip"`
	Bans     int64         `json:"bans"`
	Failures int64         `json:"failures"`
	First    *time.Time    `json:"first,omitempty"`
	Last     *time.Time    `json:"last,omitempty"`
	Events   []apiBanEvent `json:"events"`
	Hosts    []apiIPOnHost `json:"hosts"`
}

// apiIPOnHost is an address's state on one host.
type apiIPOnHost struct {
	Host    string         `json:"host"`
	Current []apiActiveBan `json:"current"`
	Error   string         `json:"error,omitempty"`
}

// apiTargetInput is the body of POST /ban and POST /unban.
type apiTargetInput struct {
	Target    string `json:"target"`     // one address or CIDR range
	Jail      string `json:"jail"`       // required to ban; "" unbans from every jail
	Host      string `json:"host"`       // a host id; "" is the panel's own host
	EveryHost bool   `json:"every_host"` // on every host instead
}

// apiBanResult is one host's part of the answer to POST /ban.
type apiBanResult struct {
	Host     string    `json:"host"`
	Jail     string    `json:"jail"`
	Targets  []string  `json:"targets,omitempty"`
	NewBans  int       `json:"new_bans"`
	Recorded bool      `json:"recorded"`
	Error    *APIError `json:"error,omitempty"`
}

// apiUnbanResult is one host's part of the answer to POST /unban.
type apiUnbanResult struct {
	Host     string    `json:"host"`
	Unbanned int       `json:"unbanned"`
	Error    *APIError `json:"error,omitempty"`
}

// apiIgnoreInput is the body of POST /jails/{name}/ignore and .../remove.
type apiIgnoreInput struct {
	Target string `json:"target"` // the address, range or entry
	Host   string `json:"host"`
}

// apiIgnoreList is a jail's ignore list.
type apiIgnoreList struct {
	Host       string   `json:"host"`
	Jail       string   `json:"jail"`
	IgnoreIPs  []string `json:"ignore_ips"`
	IgnoreSelf *bool    `json:"ignore_self,omitempty"`
}

// apiImportInput is the body of POST /blocklists/import.
type apiImportInput struct {
	SourceID int64 `json:"source_id"` // 0: every enabled list
}

// apiImport is GET /blocklists/import: the running or last import.
type apiImport struct {
	Running    bool              `json:"running"`
	StartedBy  string            `json:"started_by,omitempty"`
	StartedAt  *time.Time        `json:"started_at,omitempty"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
	Current    string            `json:"current,omitempty"`
	Phase      string            `json:"phase,omitempty"`
	Done       int64             `json:"done"`
	Total      int64             `json:"total"`
	Sources    int               `json:"sources"`
	Error      string            `json:"error,omitempty"`
	Results    []apiImportSource `json:"results"`
}

// apiImportSource is one list's result.
type apiImportSource struct {
	SourceID      int64           `json:"source_id"`
	Name          string          `json:"name"`
	URL           string          `json:"url"`
	Imported      int64           `json:"imported"`
	AlreadyBanned int64           `json:"already_banned"`
	Skipped       int64           `json:"skipped"`
	Unchanged     bool            `json:"unchanged"`
	Error         string          `json:"error,omitempty"`
	Hosts         []apiImportHost `json:"hosts"`
}

// apiImportHost is one list's result on one host.
type apiImportHost struct {
	Host          string `json:"host"`
	Imported      int64  `json:"imported"`
	AlreadyBanned int64  `json:"already_banned"`
	Error         string `json:"error,omitempty"`
}

// apiTime is t in UTC, nil when zero.
func apiTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func apiJailOf(j models.JailSummary) apiJail {
	return apiJail{Name: j.Name, Running: j.Running, Idle: j.Idle, CurrentlyFailed: j.CurrentlyFailed, TotalFailed: j.TotalFailed,
		CurrentlyBanned: j.CurrentlyBanned, TotalBanned: j.TotalBanned, BanTimeSeconds: int64(j.BanTime / time.Second),
		FindTimeSeconds: int64(j.FindTime / time.Second), MaxRetry: j.MaxRetry}
}

func apiJailsOf(js []models.JailSummary) []apiJail {
	out := make([]apiJail, len(js))
	for i, j := range js {
		out[i] = apiJailOf(j)
	}
	return out
}

func apiActiveBansOf(bans []models.ActiveBan) []apiActiveBan {
	out := make([]apiActiveBan, len(bans))
	for i, b := range bans {
		out[i] = apiActiveBan{IP: b.IP, Jail: b.Jail, Start: apiTime(b.Start), End: apiTime(b.End), Permanent: b.Permanent}
	}
	return out
}

func apiBanEventsOf(recs []models.BanRecord) []apiBanEvent {
	out := make([]apiBanEvent, len(recs))
	for i, b := range recs {
		action := b.Action
		if action == "" {
			action = "ban"
		}
		out[i] = apiBanEvent{Host: b.Host, Jail: b.Jail, IP: b.IP, Time: b.TimeOfBan.UTC().Format(time.RFC3339), Action: action,
			Origin: string(b.Origin), BanTimeSeconds: b.BanTime, BanCount: b.BanCount, Failures: b.Failures, Country: b.Country, Matches: b.Matches}
	}
	return out
}

func apiImportOf(p models.ImportProgress) apiImport {
	out := apiImport{Running: p.Running, StartedBy: string(p.StartedBy), StartedAt: apiTime(p.StartedAt), FinishedAt: apiTime(p.FinishedAt),
		Current: p.Current, Phase: p.Phase, Done: p.Done, Total: p.Total, Sources: p.Sources, Error: p.Error.Error(), Results: []apiImportSource{}}
	for _, r := range p.Results {
		src := apiImportSource{SourceID: r.SourceID, Name: r.Name, URL: r.URL, Imported: r.Imported, AlreadyBanned: r.AlreadyBanned,
			Skipped: r.Skipped, Unchanged: r.Unchanged, Error: r.Error.Error(), Hosts: []apiImportHost{}}
		for _, h := range r.Hosts {
			src.Hosts = append(src.Hosts, apiImportHost{Host: h.Host, Imported: h.Imported, AlreadyBanned: h.AlreadyBanned, Error: h.Error.Error()})
		}
		out.Results = append(out.Results, src)
	}
	return out
}
