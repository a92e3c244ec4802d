package configuration

import (
	"context"

	f2bconf "bangui/fail2ban/config"
	"bangui/models"
)

// OwnedEdit is a change of a .local file that another use case owns (the
// allow-list's file), applied through the same steps as every edit here:
// under the host's configuration lock, the whole configuration tested with
// fail2ban-client -t, and the previous file put back when a step fails.
type OwnedEdit struct {
	// File is the editable file, relative to the configuration directory.
	File string
	// Content returns the new content from the jail configuration as it
	// stands without File (read under the lock) and File's current
	// content (nil when missing).
	Content func(ctx context.Context, base *f2bconf.Set, old []byte) ([]byte, error)
	// Reload lists jails to reload after the test (names in ignore lists
	// only take effect at a reload).
	Reload func() []string
	// Apply runs after the test passed and before any reload; Undo reverts
	// it when a later step fails. Either may be nil.
	Apply, Undo func(ctx context.Context) error
}

// ApplyOwned writes an OwnedEdit on a host and makes fail2ban use it; see
// apply for the steps. It refuses to start while fail2ban does not answer
// (ErrOffline).
func (c *Service) ApplyOwned(ctx context.Context, host string, e OwnedEdit) (models.ApplyResult, error) {
	h, err := c.hosts.Get(host)
	if err != nil {
		return models.ApplyResult{}, err
	}
	ch := change{
		file: e.File,
		edit: func(old []byte) ([]byte, error) {
			base, err := c.load(ctx, h, "jail", map[string][]byte{e.File: nil})
			if err != nil {
				return nil, err
			}
			return e.Content(ctx, base, old)
		},
		reloadOf: e.Reload,
		apply:    e.Apply,
		undo:     e.Undo,
	}
	res, err := c.apply(ctx, h, ch)
	if err != nil || res.Changed || e.Apply == nil {
		return res, err
	}
	// The file already says this (a note or an expiry changed): only
	// the rest is left to do.
	if err := e.Apply(ctx); err != nil {
		res.Failure = failureReason(err)
		res.Output = rawText(res.Failure)
		return res, nil
	}
	res.OK = true
	return res, nil
}
