package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Command describes how bangui was invoked: the panel itself (the zero
// value) or a subcommand such as "demo", with its own usage text, defaults
// and flags on top of the panel's settings.
type Command struct {
	Name     string              // subcommand name; "" for the panel
	About    string              // what the subcommand does, for its --help
	Defaults map[string]string   // defaults that differ from the panel's, by setting name (e.g. "data-dir")
	Flags    func(*flag.FlagSet) // adds the subcommand's own flags; nil for none
}

// usageLines lists every way to invoke bangui, for --help.
const usageLines = `Usage: bangui [flags]         run the panel
       bangui demo [flags]    a live demo: a private fail2ban with synthetic attacks (see bangui demo --help)
       bangui agent [flags]   serve this host's fail2ban to a panel over HTTPS (see bangui agent --help)
`

// LoadCommand is Load for cmd: it parses the panel's settings and cmd's own
// flags from args, with cmd's defaults, and returns the Config. The
// subcommand's own flag values are read from the variables its Flags
// function registered. --help prints the usage and returns ErrHelp.
func LoadCommand(cmd Command, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var cfg Config
	name := "bangui"
	if cmd.Name != "" {
		name += " " + cmd.Name
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	all := settings()
	values := make(map[string]*string, len(all))
	for _, s := range all {
		def := s.def
		if d, ok := cmd.Defaults[s.name]; ok {
			def = d
		}
		values[s.name] = fs.String(s.name, def, fmt.Sprintf("%s (env %s)", s.usage, EnvName(s.name)))
	}
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	fs.Usage = func() {
		if cmd.Name == "" {
			fmt.Fprint(out, usageLines)
		} else {
			fmt.Fprintf(out, "Usage: %s [flags]\n\n%s\n", name, cmd.About)
		}
		fmt.Fprintf(out, "\nFlags override BANGUI_* environment variables, which override the defaults.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see %s --help)", fs.Arg(0), name)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range all {
		v := *values[s.name]
		source := "--" + s.name
		if !set[s.name] {
			if ev := getenv(EnvName(s.name)); ev != "" {
				v, source = ev, EnvName(s.name)
			}
		}
		if err := s.apply(&cfg, v); err != nil {
			var secret *secretValueError
			if errors.As(err, &secret) {
				return cfg, fmt.Errorf("invalid %s: %w", source, err)
			}
			return cfg, fmt.Errorf("invalid %s %q: %w", source, v, err)
		}
	}
	return cfg, nil
}
