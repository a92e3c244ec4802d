module bangui

go 1.26.0

require (
	github.com/PuerkitoBio/goquery v1.13.0
	github.com/a-h/templ v0.3.1100
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // the QR code of the TOTP secret, see pquerna/otp
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	// Alert e-mail: go-smtp is a maintained SMTP client and server (the
	// client sends with STARTTLS or implicit TLS; the tests run its server
	// as the real receiver); go-sasl is its AUTH PLAIN.
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.26.0
	// Tests only: validates the API's hand-written OpenAPI 3 document
	// (handlers/api_openapi.json); the panel itself never parses it.
	github.com/getkin/kin-openapi v0.153.0
	github.com/go-co-op/gocron/v2 v2.21.2
	// Passkeys: go-webauthn is the maintained Go WebAuthn relying party
	// (registration and assertion checks, attestation formats, COSE keys);
	// none of that is ours to write.
	github.com/go-webauthn/webauthn v0.18.2
	// PostgreSQL for the panel's own database (--database postgres://…): pgx is the
	// maintained pure-Go driver (no cgo, like modernc.org/sqlite); pgdialect is bun's
	// dialect for it, so the stores keep one bun code path on both databases.
	github.com/jackc/pgx/v5 v5.13.0
	github.com/jonboulle/clockwork v0.5.0
	github.com/kisielk/og-rek v1.3.0
	github.com/labstack/echo/v4 v4.16.0
	github.com/maxmind/mmdbwriter v1.2.0
	github.com/oschwald/maxminddb-golang/v2 v2.9.0
	// TOTP second factor: pquerna/otp is the widely used, maintained RFC 6238
	// implementation (codes, otpauth:// keys); boombuler/barcode, its own QR
	// encoder, draws the enrolment QR code as a PNG on the server, so no QR
	// service or client-side library is needed.
	github.com/pquerna/otp v1.5.0
	// Prometheus metrics (/metrics, --metrics-listen/--metrics-token): the
	// official Go client library, as issue 19 asks; v1.25.0 is the newest
	// release in the package list. Its registry, collectors and promhttp
	// handler give the text format promtool and Prometheus read.
	github.com/prometheus/client_golang v1.25.0
	// The tests parse the exposition with client_golang's own companions
	// (the text parser and its data model), the versions it requires.
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.72.0
	github.com/uptrace/bun v1.3.0
	github.com/uptrace/bun/dialect/pgdialect v1.3.0 // PostgreSQL, see pgx above
	github.com/uptrace/bun/dialect/sqlitedialect v1.3.0
	golang.org/x/crypto v0.59.0
	golang.org/x/net v0.62.0
	// The API's per-token rate limit: a token bucket (rate.Limiter), from
	// the Go project, rather than a hand-rolled one.
	golang.org/x/time v0.15.0
	modernc.org/sqlite v1.62.0
)

require (
	// Languages (package lang): go-i18n is the maintained Go message
	// catalogue library: JSON catalogues, CLDR plural rules per language
	// (one/other for English and German, more for any language added
	// later) and fallback to English for a message a catalogue lacks.
	github.com/nicksnyder/go-i18n/v2 v2.7.0
	// The Go project's BCP 47 tags and matcher: the browser's
	// Accept-Language (q-values, regional variants such as de-AT) is matched
	// to the panel's languages by it; go-i18n requires it too.
	golang.org/x/text v0.44.0
)

require (
	github.com/a-h/parse v0.0.0-20250122154542-74294addb73e // indirect
	github.com/andybalholm/brotli v1.2.7 // indirect
	github.com/andybalholm/cascadia v1.3.4 // indirect
	github.com/aristanetworks/gomap v0.0.0-20230726210543-f4e41046dced // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/cli/browser v1.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/fatih/color v1.19.0 // indirect
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	github.com/fxamacker/cbor/v2 v2.9.4 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/go-viper/mapstructure/v2 v2.5.0 // indirect
	github.com/go-webauthn/x v0.3.1 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/jinzhu/inflection v1.0.0 // indirect
	github.com/kylelemons/godebug v1.1.0 // indirect
	github.com/labstack/gommon v0.5.0 // indirect
	github.com/mattn/go-colorable v0.1.15 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/natefinch/atomic v1.0.1 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/puzpuzpuz/xsync/v3 v3.5.1 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	github.com/tinylib/msgp v1.6.4 // indirect
	github.com/tmthrgd/go-hex v0.0.0-20190904060850-447a3041c3bc // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasttemplate v1.2.2 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	go4.org/netipx v0.0.0-20231129151722-fdeea329fbba // indirect
	golang.org/x/exp v0.0.0-20230725093048-515e97ebf090 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

tool github.com/a-h/templ/cmd/templ
