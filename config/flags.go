package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Parse is the command line of every assistant-otel command: it parses args
// into fs, then fills every flag not given there from its ASSISTANT_OTEL_*
// variable (none when getenv is nil).
//
// -h, -help and --help print about, then each flag with its default and
// variable, to help and return flag.ErrHelp. A value that does not parse is
// named with its flag or variable and the accepted form; an unknown flag is
// one line that points to --help. Nothing is printed on an error: the
// caller prints it.
func Parse(fs *flag.FlagSet, about string, args []string, getenv Getenv, help io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var failed *badValue
	fs.VisitAll(func(f *flag.Flag) { f.Value = checkedValue{f.Value, f, &failed} })
	if err := fs.Parse(args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			printHelp(help, fs, about, getenv != nil)
			return err
		case failed != nil:
			return fmt.Errorf("--%s %s", failed.flag.Name, failed)
		}
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			msg = "unknown flag --" + name
		} else if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
			msg = "flag --" + name + " needs a value"
		}
		return fmt.Errorf("%s (see %s --help)", msg, fs.Name())
	}
	if getenv == nil {
		return nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(EnvVar(f.Name)); v != "" && !given[f.Name] {
			if fs.Set(f.Name, v) != nil {
				errs = append(errs, fmt.Errorf("%s=%s", EnvVar(f.Name), failed))
			}
		}
	})
	return errors.Join(errs...)
}

// problems collects the errors of a configuration: every one is reported,
// not only the first. Nil entries are dropped by errors.Join.
type problems []error

// check adds the error format and args describe when bad holds.
func (p *problems) check(bad bool, format string, args ...any) {
	if bad {
		*p = append(*p, fmt.Errorf(format, args...))
	}
}

// badValue is a value a flag refused: its String is the quoted value and
// the form the flag accepts.
type badValue struct {
	flag  *flag.Flag
	value string
	err   error
}

func (b *badValue) String() string {
	form := b.err.Error()
	if _, f := kind(b.flag); f != "" {
		form = f
	}
	return fmt.Sprintf("%q: %s", b.value, form)
}

// checkedValue records the value its flag refuses, so that Parse can name
// it (the flag package's own message says "parse error", and shows the
// value only for the command line).
type checkedValue struct {
	flag.Value
	flag   *flag.Flag
	failed **badValue
}

func (v checkedValue) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil {
		*v.failed = &badValue{v.flag, s, err}
	}
	return err
}

// IsBoolFlag keeps a boolean flag a switch (--redact without a value).
func (v checkedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// kind is the type of a flag's value, as the help shows it, and the form
// it accepts ("" for a string or a list: any value).
func kind(f *flag.Flag) (typ, form string) {
	example := "e.g. " + f.DefValue
	if strings.HasSuffix(f.Name, "-bytes") || f.Name == "memory-limit" {
		example = "bytes, " + example
	}
	var v any
	if g, ok := f.Value.(checkedValue).Value.(flag.Getter); ok {
		v = g.Get()
	}
	switch v.(type) {
	case bool:
		return "", "not true or false"
	case time.Duration:
		return " duration", "not a duration (e.g. 15s, 2m)"
	case int, int64:
		return " int", "not an integer (" + example + ")"
	case float64:
		return " number", "not a number (" + example + ")"
	}
	return " string", ""
}

// printHelp writes about, then each flag: its name and type, its usage,
// default and (withEnv) variable.
func printHelp(w io.Writer, fs *flag.FlagSet, about string, withEnv bool) {
	fmt.Fprintln(w, strings.TrimRight(about, "\n"))
	heading := "\nFlags:\n"
	fs.VisitAll(func(f *flag.Flag) {
		typ, _ := kind(f)
		var notes []string
		if def := f.DefValue; typ == " string" && def != "" {
			notes = append(notes, "default "+strconv.Quote(def))
		} else if def != "" && def != "0" && def != "0s" && def != "false" {
			notes = append(notes, "default "+def)
		}
		if withEnv {
			notes = append(notes, "env "+EnvVar(f.Name))
		}
		note := ""
		if len(notes) > 0 {
			note = " (" + strings.Join(notes, "; ") + ")"
		}
		fmt.Fprintf(w, "%s  --%s%s\n        %s%s\n", heading, f.Name, typ, f.Usage, note)
		heading = ""
	})
}

// checkAddress refuses an address a listener could not take: name is the
// flag, empty is allowed when the flag can be off.
func checkAddress(name, addr string, emptyIsOff bool) error {
	if addr == "" && emptyIsOff {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--%s %q: not host:port (e.g. :8080, 127.0.0.1:8080)", name, addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--%s %q: port %q is not a number from 0 to 65535", name, addr, port)
	}
	return nil
}

// CheckURL refuses a URL that is not absolute http(s) with a host: name is
// the flag.
func CheckURL(name, raw string) error {
	if u, err := url.Parse(raw); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--%s %q: not an http(s) URL (e.g. https://host/path)", name, raw)
	}
	return nil
}
