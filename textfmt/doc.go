// Package textfmt holds the small text helpers every layer shares: sizes
// and durations written the way the panel's pages show them, and cutting
// and splitting text without breaking characters.
package textfmt
