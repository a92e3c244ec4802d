package hosts

import "bangui/lang"

// worded is an error in the panel's words: its lang.Message (which lang.Of
// finds, to show it in a person's language) and the cause it still
// matches with errors.Is and errors.As.
type worded struct {
	msg   lang.Message
	cause error
}

// word is msg as an error that wraps cause (nil: none).
func word(msg lang.Message, cause error) error { return &worded{msg: msg, cause: cause} }

// Error is the message in English.
func (e *worded) Error() string { return e.msg.Error() }

// Unwrap returns the message and the cause.
func (e *worded) Unwrap() []error {
	if e.cause == nil {
		return []error{e.msg}
	}
	return []error{e.msg, e.cause}
}

// asMessage is the As method of this package's error types: errors.As
// (and so lang.Of) gets m, the error in the panel's words, for a
// *lang.Message target.
func asMessage(target any, m lang.Message) bool {
	if t, ok := target.(*lang.Message); ok {
		*t = m
		return true
	}
	return false
}
