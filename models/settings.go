package models

// Keys of the settings table.
const (
	SettingSetupCompleted  = "setup_completed"
	SettingPasswordHash    = "master_password_hash"
	SettingFail2banSocket  = "fail2ban_socket"
	SettingFail2banConfDir = "fail2ban_config_dir"
	SettingTimezone        = "timezone"
	SettingSessionMinutes  = "session_duration_minutes"
	// SettingRequireSecondFactor is "1" when every account must have a second
	// factor: an account without one sets one up right after its password.
	SettingRequireSecondFactor = "require_second_factor"
)
