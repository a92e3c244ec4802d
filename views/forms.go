package views

// SetupForm is what the setup page shows and re-shows after a failed submit.
// Passwords are never echoed back.
type SetupForm struct {
	Username       string // the first admin's
	Socket         string
	ConfigDir      string
	Timezone       string
	SessionMinutes string
	Errors         map[string][]string // field name → messages
	Probe          *ProbeView
}

// ProbeView explains what the socket probe found and how to fix it.
type ProbeView struct {
	OK     bool
	Title  string
	Detail string
	Fix    []string
}

func (f SetupForm) errs(field string) []string { return f.Errors[field] }

func errID(field string) string { return field + "-error" }

func describedBy(errs []string, field string, hint bool) string {
	ids := ""
	if hint {
		ids = field + "-hint"
	}
	if len(errs) > 0 {
		if ids != "" {
			ids += " "
		}
		ids += errID(field)
	}
	return ids
}

func ariaInvalid(errs []string) string {
	if len(errs) > 0 {
		return "true"
	}
	return "false"
}
