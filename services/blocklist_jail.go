package services

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
)

// BlocklistJailFile is the file, below fail2ban's configuration directory,
// that BanGUI writes when fail2ban lacks the blocklist jail.
const BlocklistJailFile = "jail.d/" + models.BlocklistJail + ".local"

// jailLockWait bounds the wait for a configuration edit in progress before
// EnsureJail writes the jail file.
const jailLockWait = 60 * time.Second

// blocklistJailConfig is the jail BanGUI writes: enabled, no log file and
// no filter (addresses come only through "set blocklist-import banip"),
// bans for 24 hours with the default ban action. fail2ban 1.0.2 accepts a
// jail without filter and log path and starts it with the polling backend
// and nothing to watch.
const blocklistJailConfig = `# Written by BanGUI for addresses imported from blocklists.
# BanGUI never overwrites this file: edit it as you like and reload the jail.
[` + models.BlocklistJail + `]
enabled = true
# No filter and no log file: BanGUI bans the listed addresses itself.
filter =
bantime = 24h
# The ban action is the default one. To block every port, uncomment:
# banaction = %(banaction_allports)s
`

// JailProblem says why the blocklist jail is missing. Its message is meant
// for the page.
type JailProblem struct {
	Message string
	Output  string // what fail2ban-client said, if it ran
}

func (e *JailProblem) Error() string {
	if e.Output == "" {
		return e.Message
	}
	return e.Message + "\n" + e.Output
}

// EnsureJail makes sure a host's fail2ban runs the blocklist jail. When it
// does not, EnsureJail writes jail.d/blocklist-import.local (unless that
// file exists: a file there is never overwritten) and reloads the jail
// through fail2ban-client. It returns a *JailProblem when fail2ban still
// does not run the jail, and fail2ban's own error when it cannot be
// reached. The outcome is remembered for the page (see JailState).
func (b *Blocklists) EnsureJail(ctx context.Context, host string) error {
	h, err := b.hosts.Get(host)
	if err != nil {
		return err
	}
	err = b.ensureJail(ctx, h)
	var jp *JailProblem
	switch {
	case err == nil:
		b.setJailProblem(host, "")
	case errors.As(err, &jp):
		b.setJailProblem(host, jp.Error())
	}
	return err
}

func (b *Blocklists) ensureJail(ctx context.Context, h hosts.Host) error {
	err := h.RequireJail(ctx, models.BlocklistJail)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fail2ban.ErrUnknownJail) {
		return b.probe.Observe(h.ID(), err)
	}
	dir := h.ConfigDir()
	if dir == "" {
		return &JailProblem{Message: "fail2ban has no jail " + models.BlocklistJail + " and BanGUI does not know fail2ban's configuration directory to add it."}
	}
	// The same lock as the configuration editor's, so this write and reload
	// never land in the middle of an edit's write, test, reload and rollback.
	lockCtx, cancel := context.WithTimeout(ctx, jailLockWait)
	unlock, lerr := h.LockConfig(lockCtx)
	cancel()
	if lerr != nil {
		return &JailProblem{Message: fmt.Sprintf("fail2ban has no jail %s and BanGUI could not add it now: %v", models.BlocklistJail, lerr)}
	}
	defer unlock()
	path := filepath.Join(dir, filepath.FromSlash(BlocklistJailFile))
	wrote, werr := h.CreateConfigFile(ctx, BlocklistJailFile, []byte(blocklistJailConfig))
	if werr != nil {
		return &JailProblem{Message: fmt.Sprintf("fail2ban has no jail %s and BanGUI could not write %s: %v", models.BlocklistJail, path, werr)}
	}
	if wrote {
		b.log.Info("wrote the blocklist jail", "host", h.ID(), "file", path)
	}
	out, rerr := h.Reload(ctx, models.BlocklistJail)
	// Another process may have added the jail meanwhile; only the result counts.
	if err := h.RequireJail(ctx, models.BlocklistJail); err == nil {
		return nil
	} else if !errors.Is(err, fail2ban.ErrUnknownJail) {
		return b.probe.Observe(h.ID(), err)
	}
	p := &JailProblem{Output: strings.TrimSpace(out)}
	switch {
	case rerr != nil:
		p.Message = fmt.Sprintf("fail2ban refused the jail %s when reloading it from %s.", models.BlocklistJail, path)
		if p.Output == "" {
			p.Output = rerr.Error()
		}
	case !wrote:
		p.Message = fmt.Sprintf("fail2ban does not run the jail %s after a reload. %s exists and was not written by BanGUI now: check that it enables the jail (enabled = true).", models.BlocklistJail, path)
	default:
		p.Message = fmt.Sprintf("fail2ban does not run the jail %s after reloading it from %s.", models.BlocklistJail, path)
	}
	return p
}

// JailState says whether a host's fail2ban runs the blocklist jail and how
// many addresses it bans; when it does not, Problem is why the last
// EnsureJail failed ("" when BanGUI has not tried to add the jail yet).
// fail2ban being unreachable is returned as an error.
func (b *Blocklists) JailState(ctx context.Context, host string) (models.BlocklistJailState, error) {
	h, err := b.hosts.Get(host)
	if err != nil {
		return models.BlocklistJailState{}, err
	}
	st, err := h.JailStatusShort(ctx, models.BlocklistJail)
	if errors.Is(err, fail2ban.ErrUnknownJail) {
		return models.BlocklistJailState{Problem: b.jailProblem(host)}, nil
	}
	if err != nil {
		return models.BlocklistJailState{}, b.probe.Observe(host, err)
	}
	return models.BlocklistJailState{Running: true, Banned: st.CurrentlyBanned}, nil
}

func (b *Blocklists) setJailProblem(host, msg string) {
	b.mu.Lock()
	b.jailMsg[host] = msg
	b.mu.Unlock()
}

func (b *Blocklists) jailProblem(host string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jailMsg[host]
}
