package models

// Keys of the settings table.
const (
	SettingSetupCompleted = "setup_completed"
	// SettingPasswordHash is the bcrypt hash of the master password of an
	// installation from before accounts, or of the first admin between
	// setup and the step that turns it into an account (with
	// SettingFirstAdmin); that step removes both.
	SettingPasswordHash = "master_password_hash"
	// SettingFirstAdmin is the user name setup chose for the first admin.
	SettingFirstAdmin = "first_admin_name"
	// SettingAdminNotice is set when the master password became the
	// password of the account "admin": the login page says so until that
	// account logs in.
	SettingAdminNotice     = "admin_from_master_password"
	SettingFail2banSocket  = "fail2ban_socket"
	SettingFail2banConfDir = "fail2ban_config_dir"
	SettingTimezone        = "timezone"
	SettingSessionMinutes  = "session_duration_minutes"
	// SettingRequireSecondFactor is "1" when every account must have a second
	// factor: an account without one sets one up right after its password.
	SettingRequireSecondFactor = "require_second_factor"
)
