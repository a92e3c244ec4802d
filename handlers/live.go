package handlers

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"bangui/events"
	"bangui/lang"
	"bangui/models"
	"bangui/views"
)

// Live pages: one publisher (the hub) turns each event of the broker into
// server-sent events, rendering every fragment once per event, scope (all
// hosts, and the event's own host) and language, whatever the number of
// open tabs; each tab's stream (GET /events?host=…) only copies the
// encoded frames. The default language is always rendered, another one
// only while a tab of the scope reads it. The last ringSize frames stay in
// a ring, so a tab that reconnects with Last-Event-ID gets what it missed,
// once.

const (
	// defaultMaxStreams bounds the streams open at once when the
	// configuration says nothing.
	defaultMaxStreams = 500
	// ringSize is how many frames a reconnecting tab can catch up on.
	ringSize = 1024
	// streamBuffer is how many frames a stream may fall behind; a stream
	// further behind is ended, and its tab reconnects and replays.
	streamBuffer = 256
	// heartbeatEvery keeps proxies from closing a quiet stream.
	heartbeatEvery = 15 * time.Second
	// fallbackRetry is when a tab refused for the cap tries again.
	fallbackRetry = time.Minute
)

// Names of the server-sent events.
const (
	sseStatus   = "status"   // the status bar, outer HTML
	sseBans     = "bans"     // new rows for the top of the dashboard's first page
	sseCounts   = "counts"   // counters swapped out of band by id (jails and jail pages)
	sseDash     = "dash"     // the 24 h dashboard's charts and countries, applied by app.js
	sseMap      = "map"      // the 24 h map's countries, applied by app.js
	sseIPs      = "ips"      // addresses banned or unbanned ("*": any): their per-IP pages fetch their state
	sseLive     = "live"     // the live indicator: connected
	sseFallback = "fallback" // the live indicator: refused, the page polls
	sseBye      = "bye"      // the live indicator: the panel stops, the tab reconnects
	sseResync   = "resync"   // the tab missed frames: its rows and per-IP state are fetched again
)

// liveFrame is one encoded server-sent event for the tabs of one scope.
type liveFrame struct {
	id    uint64
	scope string // the ?host= of the tabs it is for ("" = all hosts)
	lang  string // the language of its words ("" = it has none: for every tab of the scope)
	// langs are the languages its event was rendered in (with lang set):
	// a tab of another language had no frame of its own for that event.
	langs []string
	data  []byte // the encoded event, ending in a blank line
}

// liveFragment is one rendered event before it gets its id.
type liveFragment struct {
	name string
	lang string // the language it was rendered in, "" when it has no words
	html []byte
}

// liveStream is one open tab.
type liveStream struct {
	scope  string
	lang   string // the code of its request's language
	frames chan []byte
	behind chan struct{} // closed when the stream fell too far behind
	// resynced: the tab was told to fetch its rows again, since it opened
	// while an event was rendered without its language.
	resynced bool
}

// resync tells the tab, once, to fetch its rows and per-IP state again;
// false when its buffer is full (it reconnects instead).
func (st *liveStream) resync() bool {
	if st.resynced {
		return true
	}
	select {
	case st.frames <- encodeEvent(0, sseResync, []byte("missed")):
		st.resynced = true
		return true
	default:
		return false
	}
}

// reads reports whether the tab of st takes f.
func (st *liveStream) reads(f liveFrame) bool {
	return f.scope == st.scope && (f.lang == "" || f.lang == st.lang)
}

// misses reports whether f is an event of st's scope that was not
// rendered in st's language.
func (st *liveStream) misses(f liveFrame) bool {
	return f.scope == st.scope && f.lang != "" && !slices.Contains(f.langs, st.lang)
}

// liveHub is the one publisher of the live pages.
type liveHub struct {
	max       int
	heartbeat time.Duration
	render    func(scope string, langs []*lang.Lang, e events.Event) []liveFragment
	prime     func() // marks the newest bans of every scope as sent, at the start
	scopes    func(e events.Event) []string
	// shared holds, while one event is published, what its scopes have in
	// common (see sharedValue); only the hub's goroutine touches it.
	shared map[string]any

	mu      sync.Mutex
	seq     uint64      // the id of the newest frame
	first   uint64      // seq when the hub started: older ids are of another process
	ring    []liveFrame // oldest first, at most ringSize
	streams map[*liveStream]struct{}
	done    <-chan struct{} // the server is shutting down

	renders atomic.Int64 // fragments rendered, for tests and benchmarks

	// newest is, per scope, the newest ban sent as a new row (only the
	// hub's goroutine touches it).
	newest map[string]banMark
	// mapSent is, per scope and language (liveKey), the last "map"
	// event's fragment, not sent again while the counts stay the same
	// (only the hub's goroutine touches it).
	mapSent map[string][]byte
	// dashSent is, per scope, the counts of the last "dash" event, not
	// sent again while they stay the same (only the hub's goroutine
	// touches it).
	dashSent map[string]string
}

// banMark is the newest ban time sent and the bans of that second.
type banMark struct {
	at   time.Time
	keys map[string]bool
}

func banKey(b models.BanRecord) string { return b.Host + "|" + b.Jail + "|" + b.IP }

// freshBans keeps the bans (newest first) the tabs of scope have not been
// sent yet and moves the scope's mark. The first time, without a mark, the
// newest inserted ones count as new.
func (h *liveHub) freshBans(scope string, bans []models.BanRecord, inserted int64) []models.BanRecord {
	m, known := h.newest[scope]
	var fresh []models.BanRecord
	for i, b := range bans {
		if !known {
			if int64(i) >= inserted {
				break
			}
		} else if b.TimeOfBan.Before(m.at) || (b.TimeOfBan.Equal(m.at) && m.keys[banKey(b)]) {
			continue
		}
		fresh = append(fresh, b)
	}
	if !known {
		m = banMark{keys: map[string]bool{}} // known from now on, even when empty
	}
	if len(bans) > 0 && bans[0].TimeOfBan.After(m.at) {
		m = banMark{at: bans[0].TimeOfBan, keys: map[string]bool{}}
	}
	for _, b := range bans {
		if b.TimeOfBan.Equal(m.at) {
			m.keys[banKey(b)] = true
		}
	}
	h.newest[scope] = m
	return fresh
}

// run renders and fans out the broker's events until ctx ends.
func (h *liveHub) run(ctx context.Context, b *events.Broker) {
	ch := b.Subscribe(ctx, events.TopicStatus, events.TopicArchive, events.TopicAddresses)
	if h.prime != nil {
		h.prime()
	}
	for e := range ch {
		for _, e := range coalesce(e, ch) {
			h.publish(e)
		}
	}
}

// coalesce merges first with the events already waiting in ch, so that a
// hub that fell behind catches up instead of the broker dropping events:
// per topic and host, the last status and the sum of archived rows.
func coalesce(first events.Event, ch <-chan events.Event) []events.Event {
	out := []events.Event{first}
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return out
			}
			merged := false
			for i, o := range out {
				if o.Topic != e.Topic || o.Host != e.Host {
					continue
				}
				switch e.Topic {
				case events.TopicArchive:
					a, _ := o.Data.(events.ArchiveSynced)
					b, _ := e.Data.(events.ArchiveSynced)
					e.Data = events.ArchiveSynced{Inserted: a.Inserted + b.Inserted, Purged: a.Purged + b.Purged}
				case events.TopicAddresses:
					a, _ := o.Data.(events.AddressesChanged)
					b, _ := e.Data.(events.AddressesChanged)
					var ips []string // none: any address
					if len(a.IPs) > 0 && len(b.IPs) > 0 {
						ips = append(slices.Clone(a.IPs), b.IPs...)
					}
					e.Data = events.AddressesChanged{IPs: ips}
				}
				out[i] = e
				merged = true
				break
			}
			if !merged {
				out = append(out, e)
			}
		default:
			return out
		}
	}
}

// publish renders e once per scope and language read there, and hands
// the frames to every stream of that scope and language.
func (h *liveHub) publish(e events.Event) {
	h.shared = map[string]any{}
	for _, scope := range h.scopes(e) {
		langs := h.languages(scope)
		codes := make([]string, len(langs))
		for i, l := range langs {
			codes[i] = l.Code()
		}
		for _, f := range h.render(scope, langs, e) {
			h.send(scope, codes, f)
		}
	}
	h.shared = nil
}

// languages are the languages the fragments of scope are rendered in: the
// default one always (the ring keeps the scope's frames even while no tab
// is open), and each other one that a stream of scope reads.
func (h *liveHub) languages(scope string) []*lang.Lang {
	h.mu.Lock()
	defer h.mu.Unlock()
	def := lang.Get("")
	out := []*lang.Lang{def}
	for st := range h.streams {
		if l := lang.Get(st.lang); st.scope == scope && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out[1:], func(a, b *lang.Lang) int { return strings.Compare(a.Code(), b.Code()) })
	return out
}

// liveKey names what the hub keeps per scope and language.
func liveKey(scope string, l *lang.Lang) string { return scope + "|" + l.Code() }

// sharedValue returns the value key of the event being published,
// computing it with fn the first time, for the other scopes that need it.
func sharedValue[T any](h *liveHub, key string, fn func() T) T {
	if v, ok := h.shared[key]; ok {
		return v.(T)
	}
	v := fn()
	h.shared[key] = v
	return v
}

// send gives f the next id, keeps it in the ring and hands it to every
// stream of scope that reads its language (codes are the languages its
// event was rendered in).
func (h *liveHub) send(scope string, codes []string, f liveFragment) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	fr := liveFrame{id: h.seq, scope: scope, lang: f.lang, data: encodeEvent(h.seq, f.name, f.html)}
	if f.lang != "" {
		fr.langs = codes
	}
	if len(h.ring) == ringSize {
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:ringSize-1]
	}
	h.ring = append(h.ring, fr)
	for st := range h.streams {
		if st.misses(fr) {
			// It opened while the event was rendered, too late for its
			// language (publish had read the languages). Rows and per-IP
			// state it fetches again, on the stream it has; a status bar
			// only a new connection renders for it: it reconnects, and
			// the ring tells it that it missed a frame.
			if f.name == sseStatus || !st.resync() {
				delete(h.streams, st)
				close(st.behind)
			}
			continue
		}
		if !st.reads(fr) {
			continue
		}
		select {
		case st.frames <- fr.data:
		default: // too far behind: it reconnects and replays from the ring
			delete(h.streams, st)
			close(st.behind)
		}
	}
}

// join opens a stream for scope in the language with code unless the cap
// is reached. It returns the frames after lastID that the ring still
// holds, and whether that is all the tab missed (false: a new tab, one
// that missed more than the ring holds, or one whose language was not
// rendered meanwhile because no tab read it).
func (h *liveHub) join(scope, code string, lastID uint64) (st *liveStream, replay [][]byte, complete, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.streams) >= h.max {
		return nil, nil, false, false
	}
	st = &liveStream{scope: scope, lang: code, frames: make(chan []byte, streamBuffer), behind: make(chan struct{})}
	h.streams[st] = struct{}{}
	// complete: the ring holds every frame after lastID. A new tab (0), or
	// an id of an earlier panel process (beyond seq), gets the current
	// state instead.
	complete = lastID >= h.first && lastID <= h.seq && (len(h.ring) == 0 || h.ring[0].id <= lastID+1)
	for _, f := range h.ring {
		if !complete {
			break
		}
		switch {
		case f.id <= lastID:
		case st.misses(f):
			complete, replay = false, nil
		case st.reads(f):
			replay = append(replay, f.data)
		}
	}
	return st, replay, complete, true
}

// leave closes a stream.
func (h *liveHub) leave(st *liveStream) {
	h.mu.Lock()
	delete(h.streams, st)
	h.mu.Unlock()
}

// lastID is the id of the newest frame.
func (h *liveHub) lastID() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// open is how many streams are open.
func (h *liveHub) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.streams)
}

// encodeEvent writes one server-sent event; id 0 writes none.
func encodeEvent(id uint64, name string, data []byte) []byte {
	var b bytes.Buffer
	if id > 0 {
		b.WriteString("id: ")
		b.WriteString(strconv.FormatUint(id, 10))
		b.WriteByte('\n')
	}
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteByte('\n')
	for line := range strings.SplitSeq(string(data), "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimSuffix(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// ctxLiveFrom is the echo context key of the newest live event's id when
// the request began (see views.Request.LiveFrom).
const ctxLiveFrom = "liveFrom"

// markLiveFrom notes the newest live event's id before a page queries
// anything, for the page's event stream to start after it.
func (s *Server) markLiveFrom(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodGet && !wantsStream(c.Request()) {
			c.Set(ctxLiveFrom, s.live.lastID())
		}
		return next(c)
	}
}

// newLiveHub builds the hub of s and starts it on the broker; it stops,
// and every stream ends, when ctx ends (the server shuts down).
func (s *Server) newLiveHub(ctx context.Context, b *events.Broker, max int) *liveHub {
	if max <= 0 {
		max = defaultMaxStreams
	}
	h := &liveHub{max: max, heartbeat: heartbeatEvery, streams: map[*liveStream]struct{}{}, done: ctx.Done(), newest: map[string]banMark{},
		mapSent: map[string][]byte{}, dashSent: map[string]string{}}
	// Ids start at the time in milliseconds, so that an id a tab kept from
	// an earlier panel process is older than every id of this one: that
	// tab gets the current state, not frames it cannot place.
	h.seq = uint64(time.Now().UnixMilli())
	h.first = h.seq
	h.scopes = func(e events.Event) []string {
		if e.Host == "" || !s.manyHosts() {
			return []string{""}
		}
		return []string{"", e.Host}
	}
	h.render = func(scope string, langs []*lang.Lang, e events.Event) []liveFragment {
		return s.renderLive(h, scope, langs, e)
	}
	h.prime = func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for _, scope := range append([]string{""}, s.scopeHostsOf("")...) {
			if d, err := s.liveDashboard(ctx, scope); err == nil {
				h.freshBans(scope, d.Bans, 0)
				h.dashSent[scope] = dashKey(d) // what the pages loaded show
			}
		}
	}
	if b != nil {
		go h.run(ctx, b)
		go s.probeWhileWatched(ctx, h)
	}
	return h
}

// liveBanRows is how many of the newest bans the hub reads after an
// archive sync, to find the new ones.
const liveBanRows = 50

// renderLive renders the fragments an event changes for the tabs of scope,
// each once per language of langs; what it reads is read once. Each render
// is counted in h.renders.
func (s *Server) renderLive(h *liveHub, scope string, langs []*lang.Lang, e events.Event) []liveFragment {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []liveFragment
	add := func(name string, l *lang.Lang, html []byte, err error) {
		if err != nil {
			s.log.Warn("live: render", "event", name, "err", err)
			return
		}
		if html != nil {
			f := liveFragment{name: name, html: html}
			if l != nil {
				f.lang = l.Code()
			}
			out = append(out, f)
		}
	}
	// render renders the component comp makes in l's context.
	render := func(l *lang.Lang, comp func(ctx context.Context) templ.Component) ([]byte, error) {
		h.renders.Add(1)
		lctx := lang.With(ctx, l)
		return s.renderFragment(lctx, scope, comp(lctx))
	}
	switch e.Topic {
	case events.TopicStatus:
		status := s.fleetStatusOf(ctx, s.scopeHostsOf(scope), false)
		for _, l := range langs {
			html, err := render(l, func(context.Context) templ.Component { return views.StatusBar(status) })
			add(sseStatus, l, html, err)
		}
		// The jails' counters are the same for every scope: one query of
		// the host and one render per event and language.
		jails := sharedValue(h, "jails", func() []models.JailSummary {
			jails, err := s.jails.List(ctx, e.Host)
			if err != nil {
				return nil // the status bar says the host is offline
			}
			return jails
		})
		if len(jails) == 0 {
			return out
		}
		idHost := ""
		if s.manyHosts() {
			idHost = e.Host
		}
		for _, l := range langs {
			add(sseCounts, l, sharedValue(h, "counts|"+l.Code(), func() []byte {
				html, err := render(l, func(context.Context) templ.Component { return views.JailCounters(jails, idHost) })
				if err != nil {
					s.log.Warn("live: jail counters", "err", err)
					return nil
				}
				return html
			}), nil)
		}
	case events.TopicArchive:
		synced, _ := e.Data.(events.ArchiveSynced)
		if synced.Inserted == 0 {
			return nil
		}
		// The per-IP pages this event makes ask must not get counters
		// read before the new bans.
		s.jails.Archived(e.Host)
		if p, err := s.liveMap(ctx, scope); err != nil {
			add(sseMap, nil, nil, err)
		} else {
			for _, l := range langs {
				html, err := render(l, func(context.Context) templ.Component { return views.MapLive(p) })
				if err == nil && !bytes.Equal(html, h.mapSent[liveKey(scope, l)]) {
					h.mapSent[liveKey(scope, l)] = html
					add(sseMap, l, html, nil)
				} else if err != nil {
					add(sseMap, l, nil, err)
				}
			}
		}
		// One read for the counters and the newest rows.
		d, err := s.liveDashboard(ctx, scope)
		if err != nil {
			add(sseBans, nil, nil, err)
			return out
		}
		if key := dashKey(d); key != h.dashSent[scope] {
			h.dashSent[scope] = key
			for _, l := range langs {
				html, err := render(l, func(ctx context.Context) templ.Component { return views.DashboardLive(s.dashboardCharts(ctx, d)) })
				add(sseDash, l, html, err)
			}
		}
		fresh := h.freshBans(scope, d.Bans, synced.Inserted)
		if len(fresh) == 0 {
			return out
		}
		// The addresses, for their open per-IP pages to fetch their state
		// (only those pages query, and only when they are concerned).
		ips := make([]string, 0, len(fresh))
		for _, b := range fresh {
			if !slices.Contains(ips, b.IP) {
				ips = append(ips, b.IP)
			}
		}
		add(sseIPs, nil, []byte(strings.Join(ips, " ")), nil)
		t := views.BanTable{ID: "dash-bans", Bans: fresh, Geo: s.geo.ForRecords(ctx, fresh)}
		if s.bulk != nil {
			t.Bulk = &views.BulkSelect{Form: "bulk-dash-bans"} // the rows' checkboxes, in the dashboard's bulk form
		}
		for _, l := range langs {
			html, err := render(l, func(context.Context) templ.Component { return views.NewBanRows(t) })
			add(sseBans, l, html, err)
		}
	case events.TopicAddresses:
		// Unbans: only the per-IP pages of the addresses ask again.
		changed, _ := e.Data.(events.AddressesChanged)
		ips := strings.Join(changed.IPs, " ")
		if ips == "" {
			ips = anyAddress
		}
		add(sseIPs, nil, []byte(ips), nil)
	}
	return out
}

// anyAddress is the "ips" event of a change that may concern any address.
const anyAddress = "*"

// renderFragment renders comp outside a request, for the tabs of scope,
// in the language of ctx.
func (s *Server) renderFragment(ctx context.Context, scope string, comp templ.Component) ([]byte, error) {
	r := views.Request{
		BasePath: s.cfg.BasePath,
		Asset:    func(name string) string { return s.url("/assets/" + s.assets.Path(name)) },
		Version:  s.version,
		Location: s.panelSettings().Location,
		Now:      s.now(),
		Host:     scope,
	}
	if s.manyHosts() {
		r.Hosts = s.hostOptions()
	}
	var buf bytes.Buffer
	if err := comp.Render(views.WithRequest(ctx, r), &buf); err != nil {
		return nil, err
	}
	return validUTF8(buf.Bytes()), nil
}
