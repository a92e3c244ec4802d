package models

// Field names of the account forms (add user, reset and change password):
// the inputs' names and the keys of the validation messages that belong to
// them.
const (
	AccountFieldUsername        = "username"
	AccountFieldPassword        = "password"
	AccountFieldConfirm         = "password_confirm"
	AccountFieldCurrentPassword = "current_password"
	AccountFieldRole            = "role"
)
