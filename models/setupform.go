package models

// Field names of the setup form: the inputs' names and the keys of the
// validation messages that belong to them.
const (
	SetupFieldUsername       = "username"
	SetupFieldPassword       = "password"
	SetupFieldConfirm        = "password_confirm"
	SetupFieldSocket         = "socket"
	SetupFieldConfigDir      = "config_dir"
	SetupFieldTimezone       = "timezone"
	SetupFieldSessionMinutes = "session_minutes"
	SetupFieldCode           = "setup_code"
)
