package alerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"bangui/lang"
)

// mimeWord encodes s as an RFC 2047 word (UTF-8, Q encoding).
func mimeWord(s string) string { return mime.QEncoding.Encode("utf-8", s) }

// mail sends m over SMTP: STARTTLS or implicit TLS (never plain text),
// AUTH PLAIN when a user name is set, everything within the sender's
// timeout (a server that never answers is an error, not a stuck worker).
func (s *Sender) mail(ctx context.Context, c Config, password string, m Message) (Answer, error) {
	deadline, _ := ctx.Deadline()
	d := net.Dialer{Deadline: deadline}
	raw, err := d.DialContext(ctx, "tcp", c.addr())
	if err != nil {
		return Answer{}, lang.M("alerts.err.smtp_server", "Addr", c.addr(), "Reason", httpError(err))
	}
	conn := deadlineConn{Conn: raw, end: deadline}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLS != nil {
		tlsConf = s.TLS.Clone()
	}
	tlsConf.ServerName = c.Host
	var cl *smtp.Client
	if c.Security == SMTPTLS {
		cl = smtp.NewClient(tls.Client(conn, tlsConf))
		err = cl.Hello("localhost")
	} else {
		cl, err = smtp.NewClientStartTLS(conn, tlsConf)
	}
	if err != nil {
		raw.Close()
		return Answer{}, lang.M("alerts.err.smtp_server", "Addr", c.addr(), "Reason", httpError(err))
	}
	defer cl.Close()
	if c.Username != "" {
		if err := cl.Auth(sasl.NewPlainClient("", c.Username, password)); err != nil {
			return Answer{}, lang.M("alerts.err.smtp_login", "Reason", err)
		}
	}
	if err := cl.SendMail(c.From, c.To, bytes.NewReader(mailText(c, m))); err != nil {
		return Answer{}, lang.M("alerts.err.smtp", "Reason", httpError(err))
	}
	_ = cl.Quit()
	return Answer{Status: "250 accepted by " + c.addr()}, nil
}

// mailText is the message in RFC 5322 form, its body quoted-printable.
func mailText(c Config, m Message) []byte {
	var id [12]byte
	_, _ = rand.Read(id[:])
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", c.From)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(c.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", headerText(m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", m.At.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@bangui>\r\n", hex.EncodeToString(id[:]))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

// deadlineConn never lets a deadline go past end: the SMTP client sets
// its own (minutes long) deadlines per command; the channel's timeout
// wins.
type deadlineConn struct {
	net.Conn
	end time.Time
}

func (c deadlineConn) cap(t time.Time) time.Time {
	if !c.end.IsZero() && (t.IsZero() || t.After(c.end)) {
		return c.end
	}
	return t
}

func (c deadlineConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.cap(t)) }
func (c deadlineConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.cap(t)) }
func (c deadlineConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.cap(t)) }
