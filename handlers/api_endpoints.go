package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// The API's handlers. Each calls the same services as the pages do, with
// the same host selection (?host=, checked by requireKnownHost; a body's
// "host" by apiHost) and the same paging and filters; they only turn the
// answers into JSON.

func (s *Server) apiStatus(c echo.Context) error {
	ids := s.scopeHosts(c)
	out := make([]apiHostStatus, len(ids))
	for i, st := range s.hostStatuses(c.Request().Context(), ids, true) {
		out[i] = apiHostStatus{Host: ids[i], Name: s.hosts.Name(ids[i]), Online: st.Online, Version: st.Version,
			ActiveJails: st.ActiveJails, Banned: st.Banned, Failed: st.Failed, CheckedAt: apiTime(st.CheckedAt),
			LastContact: apiTime(st.LastContact), Error: st.Error.Error()}
	}
	return c.JSON(http.StatusOK, map[string]any{"hosts": out})
}

func (s *Server) apiJails(c echo.Context) error {
	ctx := c.Request().Context()
	var out []apiHostJails
	if id := s.hostScope(c); id != "" {
		jails, err := s.jails.List(ctx, id)
		if err != nil {
			return err
		}
		out = append(out, apiHostJails{Host: id, Jails: apiJailsOf(jails)})
	} else {
		for _, r := range s.jails.ListEveryHost(ctx) {
			h := apiHostJails{Host: r.Host, Jails: apiJailsOf(r.Value)}
			if r.Err != nil {
				h.Error = s.apiErrorOf(r.Err)
			}
			out = append(out, h)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"hosts": out})
}

// apiJailName is the jail named in the path, refused as unknown when it
// cannot be a jail's name.
func apiJailName(c echo.Context) (string, error) {
	name, err := url.PathUnescape(c.Param("name"))
	if err != nil || fail2ban.ValidJailName(name) != nil {
		return "", fail2ban.ErrUnknownJail
	}
	return name, nil
}

// apiJailDetailOf reads the jail named in the path on the request's host.
func (s *Server) apiJailDetailOf(c echo.Context) (host string, d models.JailDetail, err error) {
	name, err := apiJailName(c)
	if err != nil {
		return "", d, err
	}
	host = s.hostID(c)
	d, err = s.jails.Detail(c.Request().Context(), host, name)
	return host, d, err
}

func (s *Server) apiJail(c echo.Context) error {
	host, d, err := s.apiJailDetailOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiJailDetail{apiJail: apiJailOf(d.JailSummary), Host: host, Backend: d.Backend,
		Actions: nonNil(d.Actions), LogPaths: nonNil(d.LogPaths), IgnoreIPs: nonNil(d.IgnoreIPs), IgnoreSelf: d.IgnoreSelf})
}

func (s *Server) apiBans(c echo.Context) error {
	ctx := c.Request().Context()
	host := s.hostID(c)
	page := parsePage(c, banPageSizes)
	ip := queryText(c, "ip", maxSearchLen)
	var (
		bans  []models.ActiveBan
		total int64
		err   error
	)
	if jail := strings.TrimSpace(c.QueryParam("jail")); jail != "" {
		if fail2ban.ValidJailName(jail) != nil {
			return fail2ban.ErrUnknownJail
		}
		bans, total, err = s.jails.Banned(ctx, host, jail, ip, page)
	} else {
		bans, total, err = s.jails.ActiveBans(ctx, host, ip, page)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiBanPage{Host: host, Page: page.Number, Size: page.Size, Total: total, Bans: apiActiveBansOf(bans)})
}

// apiHost is the host a body names: its "host" when set (404 when the
// panel does not know it), else the panel's own.
func (s *Server) apiHost(id string) (string, error) {
	if id == "" {
		return s.hosts.Local().ID(), nil
	}
	if _, err := s.hosts.Get(id); err != nil {
		return "", err
	}
	return id, nil
}

// readTarget reads and checks the body of a ban or unban.
func (s *Server) readTarget(c echo.Context) (apiTargetInput, string, error) {
	var in apiTargetInput
	if err := readJSON(c, &in, false); err != nil {
		return in, "", err
	}
	if strings.TrimSpace(in.Target) == "" {
		return in, "", invalid(`"target" must be an IP address or a CIDR range.`)
	}
	if in.EveryHost {
		if in.Host != "" {
			return in, "", invalid(`Give "host" or "every_host", not both.`)
		}
		return in, "", nil
	}
	host, err := s.apiHost(in.Host)
	return in, host, err
}

func (s *Server) apiBan(c echo.Context) error {
	in, host, err := s.readTarget(c)
	if err != nil {
		return err
	}
	if in.Jail == "" {
		return invalid(`"jail" names the jail to ban in.`)
	}
	ctx := c.Request().Context()
	entry := models.AuditEntry{Action: models.AuditBan, Host: host, Jail: in.Jail, Target: in.Target}
	var out []apiBanResult
	if in.EveryHost {
		res, err := s.jails.BanOnEveryHost(ctx, in.Jail, []string{in.Target})
		if err != nil {
			return err
		}
		for _, r := range res {
			out = append(out, s.apiBanResultOf(r.Host, in.Jail, r.Value, r.Err))
		}
	} else {
		res, err := s.jails.Ban(ctx, host, in.Jail, []string{in.Target})
		if err != nil {
			return s.auditAPI(c, entry, err)
		}
		out = append(out, s.apiBanResultOf(host, in.Jail, res, nil))
	}
	entry.Detail, entry.Result = apiAuditOutcome(len(out), countErrors(out, func(r apiBanResult) bool { return r.Error != nil }))
	s.audit(c, entry)
	return c.JSON(http.StatusOK, map[string]any{"results": out})
}

func (s *Server) apiBanResultOf(host, jail string, r services.BanResult, err error) apiBanResult {
	out := apiBanResult{Host: host, Jail: jail, Targets: r.Targets, NewBans: r.NewBans, Recorded: r.Recorded}
	if err != nil {
		out.Error = s.apiErrorOf(err)
	}
	return out
}

func (s *Server) apiUnban(c echo.Context) error {
	in, host, err := s.readTarget(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	entry := models.AuditEntry{Action: models.AuditUnban, Host: host, Jail: in.Jail, Target: in.Target}
	var out []apiUnbanResult
	if in.EveryHost {
		res, err := s.jails.UnbanOnEveryHost(ctx, in.Jail, []string{in.Target})
		if err != nil {
			return err
		}
		for _, r := range res {
			u := apiUnbanResult{Host: r.Host, Unbanned: r.Value}
			if r.Err != nil {
				u.Error = s.apiErrorOf(r.Err)
			}
			out = append(out, u)
		}
	} else {
		n, err := s.jails.Unban(ctx, host, in.Jail, []string{in.Target})
		if err != nil {
			return s.auditAPI(c, entry, err)
		}
		out = append(out, apiUnbanResult{Host: host, Unbanned: n})
	}
	entry.Detail, entry.Result = apiAuditOutcome(len(out), countErrors(out, func(r apiUnbanResult) bool { return r.Error != nil }))
	s.audit(c, entry)
	return c.JSON(http.StatusOK, map[string]any{"results": out})
}

// auditAPI writes the audit entry of a change the request asked for, with
// err's answer as its result, and returns err. Input the API refused
// (invalid_input) reached no host and is not written.
func (s *Server) auditAPI(c echo.Context, entry models.AuditEntry, err error) error {
	if err != nil {
		ae := s.apiErrorOf(err)
		if ae.Code == "invalid_input" {
			return err
		}
		entry.Result = ae.Message
	}
	s.audit(c, entry)
	return err
}

// countErrors counts the results that failed.
func countErrors[T any](rs []T, failed func(T) bool) int {
	n := 0
	for _, r := range rs {
		if failed(r) {
			n++
		}
	}
	return n
}

// apiAuditOutcome words an action on hosts hosts of which failed failed,
// for its audit entry.
func apiAuditOutcome(hosts, failed int) (detail, result string) {
	if hosts > 1 {
		detail = "every host"
	}
	if failed > 0 {
		return detail, "failed on " + strconv.Itoa(failed) + " of " + strconv.Itoa(hosts) + " hosts"
	}
	return detail, ""
}

func (s *Server) apiHistory(c echo.Context) error {
	q, _ := s.historyQuery(c)
	p, err := s.history.History(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiHistoryPage{Page: q.Page.Number, Size: q.Page.Size, Total: p.Total, Note: p.Note, Events: apiBanEventsOf(p.Bans)})
}

func (s *Server) apiIPReport(c echo.Context) error {
	raw, err := url.PathUnescape(c.Param("ip"))
	if err != nil {
		return invalid("This is not an IP address.")
	}
	rep, err := s.history.IP(c.Request().Context(), s.hostScope(c), raw)
	if err != nil {
		return err
	}
	out := apiIPReport{IP: rep.IP, Bans: rep.Bans, Failures: rep.Failures, First: apiTime(rep.First), Last: apiTime(rep.Last),
		Events: apiBanEventsOf(rep.Events), Hosts: []apiIPOnHost{}}
	for _, h := range rep.Hosts {
		out.Hosts = append(out.Hosts, apiIPOnHost{Host: h.Host, Current: apiActiveBansOf(h.Current), Error: h.Offline.Error()})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiIgnoreList(c echo.Context) error {
	host, d, err := s.apiJailDetailOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiIgnoreList{Host: host, Jail: d.Name, IgnoreIPs: nonNil(d.IgnoreIPs), IgnoreSelf: &d.IgnoreSelf})
}

func (s *Server) apiIgnoreAdd(c echo.Context) error {
	return s.apiIgnoreChange(c, models.AuditIgnoreAdd)
}

func (s *Server) apiIgnoreRemove(c echo.Context) error {
	return s.apiIgnoreChange(c, models.AuditIgnoreRemove)
}

// apiIgnoreChange adds an entry to a jail's ignore list or removes one,
// as action says, and answers the list as it is now.
func (s *Server) apiIgnoreChange(c echo.Context, action models.AuditAction) error {
	name, err := apiJailName(c)
	if err != nil {
		return err
	}
	var in apiIgnoreInput
	if err := readJSON(c, &in, false); err != nil {
		return err
	}
	if strings.TrimSpace(in.Target) == "" {
		return invalid(`"target" must be an IP address or a CIDR range.`)
	}
	host, err := s.apiHost(in.Host)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var list []string
	if action == models.AuditIgnoreAdd {
		list, err = s.jails.AddIgnore(ctx, host, name, []string{in.Target})
	} else {
		list, err = s.jails.RemoveIgnore(ctx, host, name, in.Target)
	}
	if err := s.auditAPI(c, models.AuditEntry{Action: action, Host: host, Jail: name, Target: in.Target}, err); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiIgnoreList{Host: host, Jail: name, IgnoreIPs: nonNil(list)})
}

func (s *Server) apiImportResult(c echo.Context) error {
	return c.JSON(http.StatusOK, apiImportOf(s.blocklists.Progress()))
}

func (s *Server) apiImportStart(c echo.Context) error {
	var in apiImportInput
	if err := readJSON(c, &in, true); err != nil {
		return err
	}
	entry := models.AuditEntry{Action: models.AuditImport, Detail: "every enabled list"}
	if in.SourceID != 0 {
		src, err := s.blocklists.Source(c.Request().Context(), in.SourceID)
		if errors.Is(err, repo.ErrNotFound) {
			return apiErr(http.StatusNotFound, "not_found", "There is no blocklist with this source_id.")
		}
		if err != nil {
			return err
		}
		entry.Detail, entry.Target = "the list "+src.Name, src.URL
	}
	if err := s.blocklists.StartImport(in.SourceID, models.TriggerManual); err != nil {
		return err
	}
	s.audit(c, entry)
	return c.JSON(http.StatusAccepted, apiImportOf(s.blocklists.Progress()))
}

// nonNil is list, or an empty list for nil (JSON [] rather than null).
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
