package assistants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

// DefaultWatchInterval is a sensible polling period for Watch.
const DefaultWatchInterval = 5 * time.Second

// Authenticator authenticates webhook requests against the secrets of every
// assistant in the assistants file and binds each request to the assistants
// whose secret verified it. It implements receiver.Authenticator,
// receiver.ContextAuthenticator and receiver.EventAuthorizer. It is safe for
// concurrent use; reloads swap everything at once.
type Authenticator struct {
	path   string
	getenv func(string) string
	header string // "" for JWT mode
	jwt    []receiver.JWTOption
	log    *slog.Logger

	cur     atomic.Pointer[state]
	mu      sync.Mutex // serialises reloads; guards lastErr
	lastErr string
}

// state is one loaded configuration.
type state struct {
	matcher    receiver.KeyMatcher
	assistants []Assistant
	owners     []int // key index → assistants index
	byID       map[string]int
	loaded     *loaded
}

type options struct {
	getenv func(string) string
	header string
	jwt    []receiver.JWTOption
	logger *slog.Logger
}

// Option configures New.
type Option func(*options)

// WithGetenv sets how secret_env variables are read (default os.Getenv).
func WithGetenv(getenv func(string) string) Option { return func(o *options) { o.getenv = getenv } }

// WithJWTOptions passes options (leeway, max token age, …) to the JWT
// verification of every secret.
func WithJWTOptions(opts ...receiver.JWTOption) Option {
	return func(o *options) { o.jwt = append(o.jwt, opts...) }
}

// WithHeaderMode switches from JWT verification to header mode: each secret
// is a whole value of headerName (see receiver.HeaderAuthenticator).
func WithHeaderMode(headerName string) Option { return func(o *options) { o.header = headerName } }

// WithLogger sets where reloads and failed reloads are logged (default:
// discard). Secrets are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// New loads the assistants file at path and returns its authenticator. It
// fails if the file or any secret it names does not load.
func New(path string, opts ...Option) (*Authenticator, error) {
	o := options{getenv: os.Getenv, logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	switch {
	case path == "":
		return nil, errors.New("assistants: file path is empty")
	case o.getenv == nil:
		return nil, errors.New("assistants: getenv must not be nil")
	case o.logger == nil:
		return nil, errors.New("assistants: logger must not be nil")
	}
	a := &Authenticator{path: path, getenv: o.getenv, header: o.header, jwt: o.jwt, log: o.logger}
	st, err := a.build()
	if err != nil {
		return nil, err
	}
	a.cur.Store(st)
	return a, nil
}

// build loads the file and secrets into a new state.
func (a *Authenticator) build() (*state, error) {
	l, err := load(a.path, a.getenv)
	if err != nil {
		return nil, err
	}
	st := &state{assistants: l.assistants, owners: l.owners, byID: make(map[string]int, len(l.assistants)), loaded: l}
	for i, as := range l.assistants {
		st.byID[strings.ToLower(as.ID)] = i
	}
	if a.header != "" {
		st.matcher, err = receiver.NewHeaderAuthenticator(a.header, l.secrets)
	} else {
		st.matcher, err = receiver.NewJWTAuthenticator(l.secrets, a.jwt...)
	}
	if err != nil {
		return nil, fmt.Errorf("assistants file %s: %w", a.path, err)
	}
	return st, nil
}

// Reload re-reads the file and every secret and swaps them in. On error
// (logged) the previous configuration stays in force. Wire it to SIGHUP.
func (a *Authenticator) Reload() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.reloadLocked(true)
	return err
}

// reloadLocked loads a new state; it swaps it in when force is set or its
// inputs differ from the current ones. a.mu must be held.
func (a *Authenticator) reloadLocked(force bool) (changed bool, err error) {
	st, err := a.build()
	if err != nil {
		// Watch retries every interval: log a failure once until it changes.
		if msg := err.Error(); force || msg != a.lastErr {
			a.log.Error("assistants file reload failed; keeping the previous assistants and secrets",
				"file", a.path, "error", err)
			a.lastErr = msg
		}
		return false, err
	}
	a.lastErr = ""
	if !force && st.loaded.digest == a.cur.Load().loaded.digest {
		return false, nil
	}
	a.cur.Store(st)
	a.log.Info("assistants file loaded", "file", a.path,
		"assistants", len(st.assistants), "secrets", len(st.owners))
	return true, nil
}

// Watch reloads whenever the file or a secret changes, checking every
// interval (DefaultWatchInterval if not positive) until ctx ends.
func (a *Authenticator) Watch(ctx context.Context, interval time.Duration) {
	poll(ctx, interval, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		_, _ = a.reloadLocked(false)
	})
}

// poll calls check every interval (DefaultWatchInterval if not positive)
// until ctx ends.
func poll(ctx context.Context, interval time.Duration, check func()) {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

// Assistants returns the configured assistants, in file order.
func (a *Authenticator) Assistants() []Assistant {
	return append([]Assistant(nil), a.cur.Load().assistants...)
}

// Names returns assistant id → name for every assistant with a name.
func (a *Authenticator) Names() map[string]string {
	st := a.cur.Load()
	m := make(map[string]string, len(st.assistants))
	for _, as := range st.assistants {
		if as.Name != "" {
			m[as.ID] = as.Name
		}
	}
	return m
}

// Name returns the configured name of the assistant with id (ids compare
// case-insensitively), and false when it has none. It reflects reloads.
func (a *Authenticator) Name(id string) (string, bool) {
	st := a.cur.Load()
	i, ok := st.byID[strings.ToLower(id)]
	if !ok || st.assistants[i].Name == "" {
		return "", false
	}
	return st.assistants[i].Name, true
}

// principal is what AuthenticateContext learned: the assistants (indexes
// into st.assistants) whose secret verified the request.
type principal struct {
	st         *state
	assistants []int
}

type ctxKey struct{}

// FromContext returns the assistants whose secret verified the request whose
// context ctx is (the receiver passes it to the Consumer), or nil.
func FromContext(ctx context.Context) []Assistant {
	p, _ := ctx.Value(ctxKey{}).(*principal)
	if p == nil {
		return nil
	}
	out := make([]Assistant, len(p.assistants))
	for i, idx := range p.assistants {
		out[i] = p.st.assistants[idx]
	}
	return out
}

// Authenticate verifies r against every secret.
func (a *Authenticator) Authenticate(r *http.Request) error {
	_, err := a.match(r)
	return err
}

// AuthenticateContext verifies r against every secret and returns r's
// context carrying the assistants whose secret verified it.
func (a *Authenticator) AuthenticateContext(r *http.Request) (context.Context, error) {
	p, err := a.match(r)
	if err != nil {
		return nil, err
	}
	return context.WithValue(r.Context(), ctxKey{}, p), nil
}

func (a *Authenticator) match(r *http.Request) (*principal, error) {
	st := a.cur.Load()
	keys, err := st.matcher.MatchKeys(r)
	if err != nil {
		return nil, err
	}
	p := &principal{st: st}
	for _, k := range keys {
		owner := st.owners[k]
		dup := false
		for _, o := range p.assistants {
			dup = dup || o == owner
		}
		if !dup {
			p.assistants = append(p.assistants, owner)
		}
	}
	return p, nil
}

// AuthorizeEvent binds an event to the assistants (or, in the new
// experience, environments) whose secret verified the request: every
// assistant_id the event names must be one of theirs (403,
// assistant_mismatch). An event that names none is refused too (403,
// assistant_missing): a message_logged without assistant_id always, a
// cdr_logged whose interaction summaries are missing or name no assistant
// whenever several assistants are configured, since it could then not be
// told whose call it is. With one assistant configured such a call summary
// is accepted: only that assistant's secret verifies anything.
func (a *Authenticator) AuthorizeEvent(r *http.Request, ev watson.Event) error {
	p, _ := r.Context().Value(ctxKey{}).(*principal)
	if p == nil { // authenticated with Authenticate: verify again
		var err error
		if p, err = a.match(r); err != nil {
			return err
		}
	}
	owns := func(id string) bool {
		for _, i := range p.assistants {
			if strings.EqualFold(p.st.assistants[i].ID, id) {
				return true
			}
		}
		return false
	}
	mismatch := &receiver.AuthError{Reason: receiver.ReasonAssistantMismatch}
	missing := &receiver.AuthError{Reason: receiver.ReasonAssistantMissing}
	switch {
	case ev.Log != nil:
		switch {
		case ev.Log.AssistantID == "":
			return missing
		case !owns(ev.Log.AssistantID):
			return mismatch
		}
	case ev.CDR != nil:
		named := 0
		for _, s := range ev.CDR.AssistantInteractionSummaries {
			switch {
			case s.AssistantID == "":
				if len(p.st.assistants) > 1 {
					return missing
				}
			case !owns(s.AssistantID):
				return mismatch
			default:
				named++
			}
		}
		if named == 0 && len(p.st.assistants) > 1 {
			return missing
		}
	default:
		return mismatch
	}
	return nil
}
