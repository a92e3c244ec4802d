package blocklists

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"bangui/lang"
	"bangui/textfmt"
)

// Downloader defaults.
const (
	DefaultDownloadTimeout  = 2 * time.Minute
	DefaultDownloadMaxBytes = 50 << 20
	DefaultDownloadAttempts = 4
	DefaultDownloadBackoff  = 2 * time.Second
	maxDownloadBackoff      = 60 * time.Second
	maxRedirects            = 5
)

// Downloader fetches blocklists from the URLs admins give. It accepts only
// http and https (also on redirects), limits every attempt in time and the
// list in size (after decompression), accepts gzip (as Content-Encoding or
// as a .gz file) and retries with exponential backoff when the server
// answers 429 or 5xx, when an attempt times out and when the connection
// fails. The zero value uses the defaults.
type Downloader struct {
	Client   *http.Client  // transport to use; nil: a client with a private transport
	Timeout  time.Duration // limit of one attempt, body included; default DefaultDownloadTimeout
	MaxBytes int64         // largest list accepted; default DefaultDownloadMaxBytes
	Attempts int           // attempts in all; default DefaultDownloadAttempts
	Backoff  time.Duration // wait before the second attempt, doubled each time; default DefaultDownloadBackoff
}

// ErrListTooLarge is matched by a *DownloadError for a list over the size cap.
var ErrListTooLarge = errors.New("the list is larger than the size limit")

// DownloadError is a failed download. Its message is meant for the page
// (Message; lang.Of finds it).
type DownloadError struct {
	URL      string
	Attempts int   // attempts made
	Status   int   // last HTTP status; 0 when there was none
	Err      error // cause
	msg      lang.Message
}

// Message says what went wrong, and how often it was tried.
func (e *DownloadError) Message() lang.Message {
	if e.Attempts > 1 {
		return lang.M("blk.dl.tried", "Reason", e.msg, "N", e.Attempts)
	}
	return e.msg
}

// Error is the message in English.
func (e *DownloadError) Error() string { return e.Message().Error() }

// As lets errors.As (and lang.Of) find the message of the download error.
func (e *DownloadError) As(target any) bool { return lang.As(target, e.Message()) }

// Unwrap returns the cause.
func (e *DownloadError) Unwrap() error { return e.Err }

func (d Downloader) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultDownloadTimeout
}

// maxBytes returns the size cap.
func (d Downloader) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultDownloadMaxBytes
}

func (d Downloader) attempts() int {
	if d.Attempts > 0 {
		return d.Attempts
	}
	return DefaultDownloadAttempts
}

func (d Downloader) backoff() time.Duration {
	if d.Backoff > 0 {
		return d.Backoff
	}
	return DefaultDownloadBackoff
}

// CheckListURL checks that raw is an absolute http or https URL with a
// host, and returns a sentence for the form when it is not.
func CheckListURL(raw string) (*url.URL, lang.Message) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, lang.M("blk.url.missing")
	}
	if len(raw) > 2048 {
		return nil, lang.M("blk.url.too_long", "Max", 2048)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, lang.M("blk.url.invalid")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, lang.M("blk.url.no_scheme")
	default:
		return nil, lang.M("blk.url.scheme")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, lang.M("blk.url.no_host")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return nil, lang.M("blk.url.spaces")
	}
	return u, lang.Message{}
}

func (d Downloader) client() *http.Client {
	base := d.Client
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = d.timeout()
		base = &http.Client{Transport: t}
	}
	c := *base
	c.Timeout = 0 // each attempt has its own context deadline
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return lang.M("blk.dl.redirects", "N", maxRedirects)
		}
		if s := req.URL.Scheme; s != "http" && s != "https" {
			return lang.M("blk.dl.redirect_scheme", "Scheme", s)
		}
		return nil
	}
	return &c
}

// Fetch downloads rawURL and hands the body, decompressed and capped, to
// read. When an attempt fails in a way that may pass (429, 5xx, timeout,
// connection error, also while read is reading) Fetch waits and calls read
// again with a fresh body, so read must start over each time. Errors are
// *DownloadError, or the error read returned itself when it failed on its
// own; ctx ending stops everything with ctx's error.
func (d Downloader) Fetch(ctx context.Context, rawURL string, read func(io.Reader) error) error {
	u, msg := CheckListURL(rawURL)
	if !msg.IsZero() {
		return &DownloadError{URL: rawURL, msg: msg}
	}
	c := d.client()
	wait := d.backoff()
	var last *DownloadError
	for attempt := 1; attempt <= d.attempts(); attempt++ {
		if attempt > 1 {
			if last.Status == http.StatusTooManyRequests || last.Status == http.StatusServiceUnavailable {
				wait = max(wait, downloadRetryAfter(last))
			}
			t := time.NewTimer(min(wait, maxDownloadBackoff))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			wait *= 2
		}
		retry, err := d.attempt(ctx, c, u, read)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var de *DownloadError
		if !errors.As(err, &de) {
			return err // read's own error
		}
		de.Attempts = attempt
		last = de
		if !retry {
			break
		}
	}
	return last
}

// downloadRetryAfter reads a Retry-After in seconds from the last answer.
func downloadRetryAfter(e *DownloadError) time.Duration {
	var he *downloadStatusError
	if errors.As(e.Err, &he) && he.wait > 0 {
		return he.wait
	}
	return 0
}

type downloadStatusError struct {
	status string
	wait   time.Duration
}

func (e *downloadStatusError) Error() string { return "HTTP " + e.status }

// attempt makes one request. It reports whether a failure may pass on retry.
func (d Downloader) attempt(ctx context.Context, c *http.Client, u *url.URL, read func(io.Reader) error) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	fail := func(retry bool, status int, err error, msg lang.Message) (bool, error) {
		return retry, &DownloadError{URL: u.String(), Status: status, Err: err, msg: msg}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(false, 0, err, lang.M("blk.url.invalid"))
	}
	// Asking for gzip ourselves turns off the transport's transparent
	// decompression, so the size cap applies to the decompressed list.
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", "BanGUI blocklist import")
	req.Header.Set("Accept", "text/plain, */*;q=0.5")
	resp, err := c.Do(req)
	if err != nil {
		return d.transportFailure(ctx, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		se := &downloadStatusError{status: resp.Status}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.wait = time.Duration(s) * time.Second
		}
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return fail(retry, resp.StatusCode, se, lang.M("blk.dl.status", "Status", resp.Status))
	}
	limit := d.maxBytes()
	gz := strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip")
	if !gz && resp.ContentLength > limit {
		return fail(false, resp.StatusCode, ErrListTooLarge, d.tooLargeMessage())
	}
	body := &ioTracker{r: resp.Body}
	var r io.Reader = bufio.NewReaderSize(body, 32<<10)
	if !gz { // a .gz file served as it is
		if head, _ := r.(*bufio.Reader).Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
			gz = true
		}
	}
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			if body.err != nil {
				return d.transportFailure(ctx, u, body.err)
			}
			return fail(false, resp.StatusCode, err, lang.M("blk.dl.not_gzip"))
		}
		defer zr.Close()
		r = zr
	}
	capped := &capReader{r: r, left: limit}
	err = read(capped)
	switch {
	case err == nil:
		return false, nil
	case capped.over:
		return fail(false, resp.StatusCode, ErrListTooLarge, d.tooLargeMessage())
	case body.err != nil:
		return d.transportFailure(ctx, u, body.err)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, io.ErrUnexpectedEOF):
		return fail(false, resp.StatusCode, err, lang.M("blk.dl.gzip_damaged"))
	}
	return false, err
}

func (d Downloader) tooLargeMessage() lang.Message {
	return lang.M("blk.dl.too_large", "Size", textfmt.Bytes(d.maxBytes()))
}

// transportFailure describes a failed connection or a timeout.
func (d Downloader) transportFailure(ctx context.Context, u *url.URL, err error) (bool, error) {
	de := &DownloadError{URL: u.String(), Err: err}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		de.msg = lang.M("blk.dl.timeout", "Time", textfmt.Duration(d.timeout()))
	case strings.Contains(err.Error(), "redirect"):
		de.msg = lang.M("blk.dl.redirect_refused", "Reason", errors.Unwrap(err))
		return false, de
	default:
		de.msg = lang.M("blk.dl.connect", "Host", u.Host, "Reason", lang.Raw(netError(err)))
	}
	return true, de
}

// netError strips the request from a transport error.
func netError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// ioTracker remembers the first error its reader returned other than EOF.
type ioTracker struct {
	r   io.Reader
	err error
}

func (t *ioTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// capReader fails once more than left bytes are read.
type capReader struct {
	r    io.Reader
	left int64
	over bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One more byte tells "exactly at the cap" from "over it".
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			c.over = true
			return 0, ErrListTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
