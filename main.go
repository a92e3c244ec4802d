// Command bangui serves a web panel to monitor, manage and configure fail2ban.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones work on hosts without /usr/share/zoneinfo

	"bangui/agent"
	"bangui/app"
	"bangui/config"
	"bangui/demo"
	"bangui/handlers"
)

//go:generate go tool templ generate -path views

// Version is the panel's version, set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		if errors.Is(err, config.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bangui:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "agent" {
		return runAgent(ctx, args[1:])
	}
	cfg, err := config.LoadFromOS(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, log)
}

// runDemo is "bangui demo": a private fail2ban with synthetic attacks and
// the panel, served by serve like the real thing (see package demo).
func runDemo(ctx context.Context, args []string) error {
	cfg, opts, err := demo.Load(args, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.Serve, opts.Logger, opts.Out = serve, log, os.Stdout
	return demo.Run(ctx, cfg, opts)
}

// runAgent is "bangui agent": this host's fail2ban served to one enrolled
// panel over HTTPS (see package agent), until SIGINT or SIGTERM.
func runAgent(ctx context.Context, args []string) error {
	cfg, err := agent.LoadConfig(args, os.Stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return agent.Run(ctx, cfg, log, Version)
}

// serve runs the panel until ctx ends, then shuts down gracefully: the
// one wiring (package app), its routes, its jobs and its HTTP server.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	a, err := app.Build(ctx, cfg, app.Options{Logger: log, Version: Version})
	if err != nil {
		return err
	}
	defer a.Close()
	e, _, err := handlers.New(ctx, a)
	if err != nil {
		return err
	}
	return a.Serve(ctx, e)
}
