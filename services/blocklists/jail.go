package blocklists

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
)

// JailFile is the file, below fail2ban's configuration directory,
// that BanGUI writes when fail2ban lacks the blocklist jail.
const JailFile = "jail.d/" + models.BlocklistJail + ".local"

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
	Message lang.Message
	Output  string // what fail2ban-client said, if it ran
}

// Text is the message with fail2ban-client's output on a line of its own.
func (e *JailProblem) Text() lang.Message {
	if e.Output == "" {
		return e.Message
	}
	return lang.M("blk.jail.with_output", "Message", e.Message, "Output", lang.Raw(e.Output))
}

// Error is the text in English.
func (e *JailProblem) Error() string { return e.Text().Error() }

// As lets errors.As (and lang.Of) find the text of the problem.
func (e *JailProblem) As(target any) bool { return lang.As(target, e.Text()) }

// EnsureJail makes sure a host's fail2ban runs the blocklist jail. When it
// does not, EnsureJail writes jail.d/blocklist-import.local (unless that
// file exists: a file there is never overwritten) and reloads the jail
// through fail2ban-client. It returns a *JailProblem when fail2ban still
// does not run the jail, and fail2ban's own error when it cannot be
// reached. The outcome is remembered for the page (see JailState).
func (b *Service) EnsureJail(ctx context.Context, host string) error {
	h, err := b.hosts.Get(host)
	if err != nil {
		return err
	}
	err = b.ensureJail(ctx, h)
	var jp *JailProblem
	switch {
	case err == nil:
		b.setJailProblem(host, lang.Message{})
	case errors.As(err, &jp):
		b.setJailProblem(host, jp.Text())
	}
	return err
}

func (b *Service) ensureJail(ctx context.Context, h hosts.Host) error {
	err := h.RequireJail(ctx, models.BlocklistJail)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fail2ban.ErrUnknownJail) {
		return b.probe.Observe(h.ID(), err)
	}
	dir := h.ConfigDir()
	if dir == "" {
		return &JailProblem{Message: lang.M("blk.jail.no_dir", "Jail", models.BlocklistJail)}
	}
	// The same lock as the configuration editor's, so this write and reload
	// never land in the middle of an edit's write, test, reload and rollback.
	lockCtx, cancel := context.WithTimeout(ctx, jailLockWait)
	unlock, lerr := h.LockConfig(lockCtx)
	cancel()
	if lerr != nil {
		return &JailProblem{Message: lang.M("blk.jail.lock", "Jail", models.BlocklistJail, "Reason", lerr)}
	}
	defer unlock()
	path := filepath.Join(dir, filepath.FromSlash(JailFile))
	wrote, werr := h.CreateConfigFile(ctx, JailFile, []byte(blocklistJailConfig))
	if werr != nil {
		return &JailProblem{Message: lang.M("blk.jail.write", "Jail", models.BlocklistJail, "Path", path, "Reason", werr)}
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
		p.Message = lang.M("blk.jail.refused", "Jail", models.BlocklistJail, "Path", path)
		if p.Output == "" {
			p.Output = rerr.Error()
		}
	case !wrote:
		p.Message = lang.M("blk.jail.not_enabled", "Jail", models.BlocklistJail, "Path", path)
	default:
		p.Message = lang.M("blk.jail.not_running", "Jail", models.BlocklistJail, "Path", path)
	}
	return p
}

// JailState says whether a host's fail2ban runs the blocklist jail and how
// many addresses it bans; when it does not, Problem is why the last
// EnsureJail failed ("" when BanGUI has not tried to add the jail yet).
// fail2ban being unreachable is returned as an error.
func (b *Service) JailState(ctx context.Context, host string) (models.BlocklistJailState, error) {
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

func (b *Service) setJailProblem(host string, msg lang.Message) {
	b.mu.Lock()
	b.jailMsg[host] = msg
	b.mu.Unlock()
}

func (b *Service) jailProblem(host string) lang.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jailMsg[host]
}
