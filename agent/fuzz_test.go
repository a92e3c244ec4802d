package agent

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"bangui/hosts"
	"bangui/hosts/wire"
)

// programs are the calls that start fail2ban-client or fail2ban-regex;
// the fuzz target leaves them out (slow, and their input is the local
// host's to check).
var programs = map[string]bool{wire.Reload: true, wire.Restart: true, wire.TestConfig: true, wire.TestRegex: true, wire.CheckFilter: true}

// FuzzAgentCall sends arbitrary bodies to every call of an enrolled agent
// (its fail2ban stopped, its folders empty): the agent never panics and
// always answers JSON, a result or an error with a code and a message.
func FuzzAgentCall(f *testing.F) {
	dir := f.TempDir()
	local := hosts.NewLocal(hosts.LocalOptions{Socket: filepath.Join(dir, "none.sock"), ConfigDir: filepath.Join(dir, "conf"),
		LogDirs: []string{filepath.Join(dir, "log")}, DBPath: filepath.Join(dir, "none.sqlite3")})
	a, err := New(Options{Host: local, DataDir: filepath.Join(dir, "agent"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LockTTL: time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	a.credHash = hashCredential("c")
	h := a.Handler()
	var names []string
	for n := range methods {
		if !programs[n] {
			names = append(names, n)
		}
	}
	for _, seed := range []string{``, `{}`, `{"jail":"sshd","ips":["192.0.2.1"]}`, `{"name":"jail.d/x.local","data":"eA=="}`,
		`{"stack":"jail","overlay":{"jail.local":null}}`, `{"path":"/var/log/syslog","n":5}`, `{"afterRowId":1,"limit":5}`,
		`{"waitMs":0}`, `{"id":"x"}`, `[1,2]`, `null`, `{"jail":"` + string(bytes.Repeat([]byte("a"), 300)) + `"}`} {
		f.Add(uint8(0), []byte(seed))
		f.Add(uint8(7), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		name := names[int(which)%len(names)]
		req := httptest.NewRequest("POST", wire.PathCall+name, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer c")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			var res wire.Result[json.RawMessage]
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatalf("%s %q: 200 with %q", name, body, rec.Body)
			}
			return
		}
		var fail wire.Failure
		if err := json.Unmarshal(rec.Body.Bytes(), &fail); err != nil || fail.Error.Code == "" || fail.Error.Message == "" {
			t.Fatalf("%s %q: %d %q", name, body, rec.Code, rec.Body)
		}
	})
}
