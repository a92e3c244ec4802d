package models

import (
	"encoding/json"
	"strings"

	"bangui/lang"
)

// StoredText is a message as a log table stores it (the import log's
// errors, an alert delivery's last error): in every language of the
// panel, as JSON ({"de": "…", "en": "…"}), so the page shows it in each
// reader's language. Rows written before are plain English text, shown as
// they are.
type StoredText string

// StoredTextOf is m as a log table stores it.
func StoredTextOf(m lang.Message) StoredText {
	texts := map[string]string{}
	for _, code := range lang.Codes() {
		texts[code] = m.In(lang.Get(code))
	}
	b, _ := json.Marshal(texts)
	return StoredText(b)
}

// In is the text in language l (English when the entry has no text in l).
func (t StoredText) In(l *lang.Lang) string {
	var texts map[string]string
	if !strings.HasPrefix(string(t), "{") || json.Unmarshal([]byte(t), &texts) != nil {
		return string(t)
	}
	if s, ok := texts[l.Code()]; ok {
		return s
	}
	return texts[lang.Default.String()]
}
