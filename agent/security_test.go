package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bangui/agent"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/hosts/wire"
)

// answer is one raw answer of the agent.
type answer struct {
	status int
	err    wire.Error
	body   string
}

// send posts body (raw bytes, or JSON of any other value) to the agent at
// path with the credential (none when "").
func send(t *testing.T, c *http.Client, method, url, cred string, body any) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var f wire.Failure
	_ = json.Unmarshal(b, &f)
	return answer{status: resp.StatusCode, err: f.Error, body: string(b)}
}

func (a answer) want(t *testing.T, what string, status int, code, msgPart string) {
	t.Helper()
	if a.status != status || a.err.Code != code || !strings.Contains(a.err.Message, msgPart) {
		t.Errorf("%s: %d %s %q, want %d %s with %q (body %s)", what, a.status, a.err.Code, a.err.Message, status, code, msgPart, a.body)
	}
}

// TestAgentEnrolment: before enrolment the agent answers nothing but
// enrolment; a wrong token is refused, the right one gives the credential
// once and then stops working; requests without or with a wrong credential
// are refused; revocation makes the agent refuse the old credential; a
// restart brings a new token; the secrets are files only the agent reads.
func TestAgentEnrolment(t *testing.T) {
	p := startAgent(t, agentOptions{})
	c := rawClient()
	if p.Token == "" || p.Fingerprint == "" || p.Expires == "" {
		t.Fatalf("the log shows no token, expiry or fingerprint:\n%s", p.Log())
	}
	for _, f := range []string{agent.KeyFile, agent.CertFile, agent.TokenFile} {
		fi, err := os.Stat(filepath.Join(p.DataDir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(p.DataDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode: %v, %v", fi.Mode().Perm(), err)
	}

	// Not enrolled: everything but enrolment is refused, with or without a credential.
	send(t, c, "GET", p.URL+wire.PathInfo, "", nil).want(t, "info before enrolment", 403, wire.CodeNotEnrolled, "not enrolled")
	send(t, c, "POST", p.URL+wire.PathCall+wire.Ping, "anything", nil).want(t, "a call before enrolment", 403, wire.CodeNotEnrolled, "not enrolled")
	send(t, c, "POST", p.URL+wire.PathRevoke, "", nil).want(t, "revoke before enrolment", 403, wire.CodeNotEnrolled, "not enrolled")

	// The wrong token.
	send(t, c, "POST", p.URL+wire.PathEnroll, "", wire.EnrollRequest{Token: "AAAAA-BBBBB-CCCCC-DDDDD"}).want(t, "wrong token", 401, wire.CodeBadToken, "wrong")
	ctx := context.Background()
	if _, err := hosts.Enroll(ctx, p.URL, p.Fingerprint, "nope"); !errors.Is(err, hosts.ErrAgentRefused) || !strings.Contains(err.Error(), "token is wrong") {
		t.Errorf("Enroll with a wrong token: %v", err)
	}
	// A panel pinning another fingerprint does not even send the token.
	other := strings.Repeat("AB:", 31) + "AB"
	var fe *hosts.FingerprintError
	if _, err := hosts.Enroll(ctx, p.URL, other, p.Token); !errors.As(err, &fe) || fe.Got != p.Fingerprint {
		t.Errorf("Enroll with another fingerprint: %v", err)
	}

	// The right one, once; the token is lower-case and without dashes as a person may type it.
	cred, err := hosts.Enroll(ctx, p.URL, strings.ToLower(strings.ReplaceAll(p.Fingerprint, ":", "")), strings.ToLower(strings.ReplaceAll(p.Token, "-", "")))
	if err != nil || len(cred) < 40 {
		t.Fatalf("enrol: %q, %v", cred, err)
	}
	if _, err := os.Stat(filepath.Join(p.DataDir, agent.TokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the token file outlived the enrolment: %v", err)
	}
	stored, err := os.ReadFile(filepath.Join(p.DataDir, agent.CredentialFile))
	if err != nil || strings.Contains(string(stored), cred) {
		t.Errorf("the credential is stored in clear or not at all: %q, %v", stored, err)
	}
	if fi, err := os.Stat(filepath.Join(p.DataDir, agent.CredentialFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credential hash file mode: %v", err)
	}
	send(t, c, "POST", p.URL+wire.PathEnroll, "", wire.EnrollRequest{Token: p.Token}).want(t, "reused token", 401, wire.CodeBadToken, "enrolled already")

	// Credentials.
	send(t, c, "GET", p.URL+wire.PathInfo, "", nil).want(t, "no credential", 401, wire.CodeUnauthorized, "no credential")
	send(t, c, "GET", p.URL+wire.PathInfo, cred+"x", nil).want(t, "wrong credential", 401, wire.CodeUnauthorized, "wrong")
	send(t, c, "GET", p.URL+wire.PathInfo, p.Token, nil).want(t, "the token as credential", 401, wire.CodeUnauthorized, "wrong")
	if a := send(t, c, "GET", p.URL+wire.PathInfo, cred, nil); a.status != 200 {
		t.Fatalf("info with the credential: %d %s", a.status, a.body)
	}
	r, err := hosts.NewRemoteAgent(hosts.RemoteOptions{ID: "h", URL: p.URL, Fingerprint: p.Fingerprint, Credential: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Ping(ctx); !errors.Is(err, hosts.ErrAgentRefused) {
		t.Errorf("a Remote with a wrong credential: %v, want ErrAgentRefused", err)
	}

	// Revocation: the credential stops working; a restart brings a new token.
	opts := hosts.RemoteOptions{ID: "h", URL: p.URL, Fingerprint: p.Fingerprint, Credential: cred}
	if err := hosts.Revoke(ctx, opts); err != nil {
		t.Fatal(err)
	}
	send(t, c, "GET", p.URL+wire.PathInfo, cred, nil).want(t, "after revocation", 403, wire.CodeNotEnrolled, "not enrolled")
	send(t, c, "POST", p.URL+wire.PathEnroll, "", wire.EnrollRequest{Token: p.Token}).want(t, "the old token after revocation", 401, wire.CodeBadToken, "no enrolment token")
	stop(t, p)
	p2 := startAgent(t, agentOptions{dataDir: p.DataDir})
	if p2.Token == "" || p2.Token == p.Token || p2.Fingerprint != p.Fingerprint {
		t.Fatalf("after a restart: token %q (was %q), fingerprint %q (was %q)", p2.Token, p.Token, p2.Fingerprint, p.Fingerprint)
	}
	if _, err := hosts.Enroll(ctx, p2.URL, p2.Fingerprint, p2.Token); err != nil {
		t.Fatalf("enrol again: %v", err)
	}
	// An enrolled agent that restarts keeps its credential and prints no token.
	stop(t, p2)
	p3 := startAgent(t, agentOptions{dataDir: p.DataDir})
	if p3.Token != "" {
		t.Errorf("an enrolled agent printed a token at start:\n%s", p3.Log())
	}
}

// TestAgentTokenExpires: a token past its time is refused with a message
// that says how to get a new one.
func TestAgentTokenExpires(t *testing.T) {
	p := startAgent(t, agentOptions{extra: []string{"--token-ttl", "1ns"}})
	send(t, rawClient(), "POST", p.URL+wire.PathEnroll, "", wire.EnrollRequest{Token: p.Token}).want(t, "expired token", 401, wire.CodeBadToken, "expired")
}

// TestAgentCertificateChange: an agent whose certificate was made anew
// stops the panel with a FingerprintError naming the new fingerprint.
func TestAgentCertificateChange(t *testing.T) {
	p := startAgent(t, agentOptions{})
	r := enroll(t, p)
	ctx := context.Background()
	if _, err := r.Info(ctx); err != nil {
		t.Fatal(err)
	}
	stop(t, p)
	for _, f := range []string{agent.KeyFile, agent.CertFile} {
		if err := os.Remove(filepath.Join(p.DataDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	p2 := startAgent(t, agentOptions{dataDir: p.DataDir})
	if p2.Fingerprint == p.Fingerprint {
		t.Fatal("the new certificate has the old fingerprint")
	}
	r2, err := hosts.NewRemoteAgent(hosts.RemoteOptions{ID: "h", URL: p2.URL, Fingerprint: p.Fingerprint, Credential: "x"})
	if err != nil {
		t.Fatal(err)
	}
	err = r2.Ping(ctx)
	var fe *hosts.FingerprintError
	if !errors.As(err, &fe) || !errors.Is(err, hosts.ErrFingerprintChanged) || fe.Got != p2.Fingerprint || fe.Want != p.Fingerprint {
		t.Fatalf("a changed certificate: %v", err)
	}
}

// TestAgentRefusesHostileInput: requests sent straight to the agent with
// oversized bodies, garbage, unknown calls, invalid addresses and jail
// names, and paths that try to leave the configuration or log folders are
// each refused with a clear message, and nothing reaches fail2ban.
func TestAgentRefusesHostileInput(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "manual", Manual: true})
	p := startAgent(t, agentOptions{sb: sb})
	cred := enrollCredential(t, p)
	c := rawClient()
	call := func(method string, body any) answer {
		return send(t, c, "POST", p.URL+wire.PathCall+method, cred, body)
	}

	call(wire.Ban, bytes.Repeat([]byte("A"), 2<<20)).want(t, "oversized body", 413, wire.CodeTooLarge, "larger than")
	call(wire.Ban, []byte("{not json")).want(t, "garbage", 400, wire.CodeBadRequest, "not valid JSON")
	call(wire.Ban, []byte(`{"jail":"manual","ips":["192.0.2.1"]}{}`)).want(t, "two values", 400, wire.CodeBadRequest, "more than one")
	call(wire.Ban, []byte(`{"jail":"manual","ips":["192.0.2.1"],"command":"rm -rf /"}`)).want(t, "unknown field", 400, wire.CodeBadRequest, "unknown field")
	call(wire.Ban, []byte(`{"jail":["manual"]}`)).want(t, "wrong type", 400, wire.CodeBadRequest, "not valid JSON")
	call("exec", wire.Value{Value: "id"}).want(t, "unknown call", 404, wire.CodeUnknownMethod, "no call")
	if a := call("..%2F..%2Fv1%2Finfo", nil); a.status == 200 || a.err.Code == "" {
		t.Errorf("a path as call: %d %s", a.status, a.body)
	}
	call(wire.Ban, wire.JailIPs{Jail: "manual", IPs: []string{"not-an-ip"}}).want(t, "invalid address", 422, wire.CodeValidation, "not-an-ip")
	call(wire.Ban, wire.JailIPs{Jail: "manual", IPs: []string{"192.0.2.1; reboot"}}).want(t, "address with a command", 422, wire.CodeValidation, "")
	call(wire.Ban, wire.JailIPs{Jail: "manual", IPs: []string{"192.0.2.1/33"}}).want(t, "an impossible range", 422, wire.CodeValidation, "")
	call(wire.Ban, wire.JailIPs{Jail: "--all", IPs: []string{"192.0.2.1"}}).want(t, "an option as jail", 422, wire.CodeValidation, "not a jail name")
	call(wire.Ban, wire.JailIPs{Jail: "manual\nstop", IPs: []string{"192.0.2.1"}}).want(t, "a jail with a line break", 422, wire.CodeValidation, "not a jail name")
	call(wire.JailStatus, wire.Jail{Jail: "../manual"}).want(t, "an unknown jail", 422, wire.CodeCommand, "UnknownJailException")
	call(wire.Ban, wire.JailIPs{Jail: "manual", IPs: make([]string, wire.MaxAddresses+1)}).want(t, "too many addresses", 400, wire.CodeBadRequest, "at most")
	call(wire.SetLogTarget, wire.Value{Value: "relative/file"}).want(t, "relative log target", 422, wire.CodeValidation, "")
	call(wire.TailLog, wire.Tail{Path: "/etc/passwd", N: 5}).want(t, "a file outside the log folders", 422, wire.CodeLogPath, "not inside")
	call(wire.TailLog, wire.Tail{Path: filepath.Join(sb.Dir, "log") + "/../../../../etc/passwd", N: 5}).want(t, "a ../ path", 422, wire.CodeLogPath, "")
	call(wire.TailLog, wire.Tail{Path: "fail2ban.log", N: 5}).want(t, "a relative path", 422, wire.CodeLogPath, "absolute")
	call(wire.TailLog, wire.Tail{Path: filepath.Join(sb.Dir, "log", "manual.log"), N: 0}).want(t, "no lines", 400, wire.CodeBadRequest, "at least one line")
	if err := os.Symlink("/etc/passwd", filepath.Join(sb.Dir, "log", "out.log")); err != nil {
		t.Fatal(err)
	}
	call(wire.TailLog, wire.Tail{Path: filepath.Join(sb.Dir, "log", "out.log"), N: 5}).want(t, "a link out of the log folders", 422, wire.CodeLogPath, "not inside")
	for _, name := range []string{"../../etc/passwd", "/etc/passwd", "jail.conf", "filter.d/sshd.conf", "jail.d/x.conf", "jail.d/.hidden.local", "jail.d/a%2e%2e.local"} {
		call(wire.ReadConfigFile, wire.File{Name: name}).want(t, "read "+name, 422, wire.CodeConfigPath, "")
		call(wire.WriteConfigFile, wire.File{Name: name, Data: []byte("x")}).want(t, "write "+name, 422, wire.CodeConfigPath, "")
	}
	if err := os.Symlink("/etc", filepath.Join(sb.ConfigDir, "action.d", "out.local")); err != nil {
		t.Fatal(err)
	}
	call(wire.WriteConfigFile, wire.File{Name: "action.d/out.local", Data: []byte("x")}).want(t, "write through a link", 422, wire.CodeConfigPath, "")
	if err := os.WriteFile(filepath.Join(sb.Dir, "secret.conf"), []byte("[secret]\nkey = 42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	call(wire.LoadConfig, wire.LoadConfigArgs{Stack: "../secret"}).want(t, "a stack outside", 400, wire.CodeBadRequest, "not a configuration stack")
	call(wire.LoadConfig, wire.LoadConfigArgs{Stack: "filter.d/../../secret"}).want(t, "a stack through ..", 400, wire.CodeBadRequest, "not a configuration stack")
	call(wire.LoadConfig, wire.LoadConfigArgs{Stack: "/etc/passwd"}).want(t, "an absolute stack", 400, wire.CodeBadRequest, "not a configuration stack")
	call(wire.LoadConfig, wire.LoadConfigArgs{Stack: "jail", Overlay: map[string][]byte{"../x": nil}}).want(t, "an overlay outside", 422, wire.CodeConfigPath, "")
	call(wire.ConfigItems, wire.Folder{Folder: "../.."}).want(t, "a folder outside", 500, wire.CodeError, "not a folder")
	call(wire.CheckFilter, wire.Name{Name: "../../etc/passwd"}).want(t, "a filter outside", 422, wire.CodeValidation, "not a filter name")
	call(wire.RestoreConfigFile, wire.ID{ID: "guessed"}).want(t, "a guessed restore id", 409, wire.CodeLockExpired, "no longer keeps")
	call(wire.UnlockConfig, wire.ID{ID: "guessed"}).want(t, "a guessed lock id", 409, wire.CodeLockExpired, "no configuration lock")
	call(wire.NewRowsSince, wire.Rows{AfterRowID: -1, Limit: 5}).want(t, "a negative rowid", 400, wire.CodeBadRequest, "")
	call(wire.LockConfig, wire.LockWait{WaitMS: 1 << 40}).want(t, "an endless lock wait", 400, wire.CodeBadRequest, "wait between")

	// Plain HTTP on the HTTPS port is not served.
	resp, err := http.Post("http://"+strings.TrimPrefix(p.URL, "https://")+wire.PathCall+wire.Ping, "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP: %d", resp.StatusCode)
		}
	}

	// Nothing reached fail2ban: no ban, no file outside the editable ones.
	st, err := hosts.NewLocal(hosts.LocalOptions{Socket: sb.SocketPath}).JailStatus(context.Background(), "manual")
	if err != nil || st.TotalBanned != 0 || len(st.Banned) != 0 {
		t.Errorf("after the hostile calls: %+v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(sb.ConfigDir, "jail.d", "x.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a .conf file was written: %v", err)
	}

	// Failed attempts are limited per address.
	var last answer
	for range 12 {
		last = send(t, c, "GET", p.URL+wire.PathInfo, "wrong", nil)
	}
	last.want(t, "after many wrong credentials", 429, wire.CodeRateLimited, "too many failed attempts")
}
