package lang

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Message is a text for a person that is not yet in a language: a
// catalogue id and the values of its fields. The layers below the handlers
// (services, models, hosts) know nothing of a request's language: they
// return Messages — as errors, or inside a services.ValidationError — and
// the handler that shows one puts it in the request's language with In or
// Text. As an error a Message reads in English (the API, logs, the audit
// log).
//
// A field's value may itself be a Message, or an error holding one: it is
// put in the same language.
type Message struct {
	id     string
	kv     []any
	n      int
	plural bool
	raw    string
}

// M is the message id with its fields as pairs of name and value, as T
// takes them: M("setup.password_short", "Min", 12).
func M(id string, kv ...any) Message { return Message{id: id, kv: kv} }

// MN is the message id in the plural form for n, as N takes it.
func MN(id string, n int, kv ...any) Message { return Message{id: id, kv: kv, n: n, plural: true} }

// Raw is a text from outside the panel (fail2ban's own words, an operating
// system's error), shown as it is in every language.
func Raw(text string) Message { return Message{raw: text} }

// ID is the message's catalogue id, "" for a Raw text.
func (m Message) ID() string { return m.id }

// IsZero reports whether m is no message at all.
func (m Message) IsZero() bool { return m.id == "" && m.raw == "" }

// In is m in language l.
func (m Message) In(l *Lang) string {
	if m.id == "" {
		return m.raw
	}
	kv := m.kv
	for i := 1; i < len(kv); i += 2 {
		if v, ok := kv[i].(error); ok {
			if &kv[0] == &m.kv[0] {
				kv = append([]any(nil), m.kv...) // m's values stay as they are
			}
			kv[i] = Of(v).In(l)
		}
	}
	if m.plural {
		return l.N(m.id, m.n, kv...)
	}
	return l.T(m.id, kv...)
}

// Error is m in English.
func (m Message) Error() string { return m.In(Get(Default.String())) }

// String is m in English.
func (m Message) String() string { return m.Error() }

// Of is the Message err holds (the outermost, when it wraps one), else
// err's own words as a Raw text. Words a wrapping error adds around a
// Message are dropped: they are for logs, not people.
func Of(err error) Message {
	var m Message
	if errors.As(err, &m) {
		return m
	}
	if err == nil {
		return Message{}
	}
	return Raw(err.Error())
}

// As is the As method of an error type that stands for a message: errors.As
// (and so Of) sets a *Message target to m.
//
//	func (e *MyError) As(target any) bool { return lang.As(target, e.message()) }
func As(target any, m Message) bool {
	p, ok := target.(*Message)
	if ok {
		*p = m
	}
	return ok
}

// Wrap is m as an error that still matches its causes with errors.Is and
// errors.As: a failure in the panel's words around the one below it.
func Wrap(m Message, causes ...error) error { return &wrapped{msg: m, causes: causes} }

type wrapped struct {
	msg    Message
	causes []error
}

func (e *wrapped) Error() string      { return e.msg.Error() }
func (e *wrapped) Unwrap() []error    { return e.causes }
func (e *wrapped) As(target any) bool { return As(target, e.msg) }

// Text is err in ctx's language: the Message it holds, translated, else
// its own words.
func Text(ctx context.Context, err error) string { return Of(err).In(From(ctx)) }

// wireMessage is a Message as JSON, for a message that crosses the wire
// from an agent: values travel as text.
type wireMessage struct {
	ID     string   `json:"id,omitempty"`
	Values []string `json:"values,omitempty"` // name, value, name, value…
	N      int      `json:"n,omitempty"`
	Plural bool     `json:"plural,omitempty"`
	Raw    string   `json:"raw,omitempty"`
}

// MarshalJSON writes m with its values as English text.
func (m Message) MarshalJSON() ([]byte, error) {
	w := wireMessage{ID: m.id, N: m.n, Plural: m.plural, Raw: m.raw}
	for _, v := range m.kv {
		if e, ok := v.(error); ok {
			v = e.Error()
		}
		w.Values = append(w.Values, fmt.Sprint(v))
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w wireMessage
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message{id: w.ID, n: w.N, plural: w.Plural, raw: w.Raw}
	for _, v := range w.Values {
		m.kv = append(m.kv, v)
	}
	return nil
}
