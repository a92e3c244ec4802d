package views

import "bangui/models"

// AlertChannelRow is one channel in the list: its secret shown masked.
type AlertChannelRow struct {
	ID           int64
	Name, Kind   string
	Target       string // URL or SMTP host and recipients
	SecretMasked string
}

// AlertChannelForm is the form that adds or edits a channel. Secret left
// empty on an edit keeps the stored one.
type AlertChannelForm struct {
	ID       int64  `form:"-"`
	Name     string `form:"name"`
	Kind     string `form:"kind"`
	URL      string `form:"url"`
	Headers  string `form:"headers"` // one "Name: value" a line
	Host     string `form:"host"`
	Port     string `form:"port"`
	Security string `form:"security"`
	Username string `form:"username"`
	From     string `form:"from"`
	To       string `form:"to"` // comma-separated
	Secret   string `form:"secret"`
	// SecretMasked is the stored secret's last characters (an edit).
	SecretMasked string `form:"-"`
	Kinds        []string
	Errors       map[string][]string
}

func (f AlertChannelForm) errs(field string) []string { return f.Errors[field] }

// AlertTestResult is what a Send test got back.
type AlertTestResult struct {
	Channel string
	OK      bool
	Status  string
	Body    string // the first bytes of the answer
	Error   string
}

// AlertsPage is /alerts: the channels, the add (or edit) form and the
// last Send test's answer.
type AlertsPage struct {
	Channels []AlertChannelRow
	Form     AlertChannelForm
	Test     *AlertTestResult
}

// AlertLogPage is /alerts/log: deliveries newest first, paged by id.
type AlertLogPage struct {
	Rows []models.AlertDelivery
	Next int64 // the id to page before; 0: no older rows
}
