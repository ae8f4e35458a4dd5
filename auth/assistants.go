package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/filewatch"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Assistants authenticates webhook requests against the secrets of every
// assistant in the assistants file and binds each request to the assistants
// whose secret verified it. It implements Authenticator,
// ContextAuthenticator and EventAuthorizer. It is safe for concurrent use;
// reloads swap everything at once.
type Assistants struct {
	path string
	assistantsOptions

	cur   atomic.Pointer[state]
	watch *filewatch.Watcher[*state]
}

// state is one loaded configuration.
type state struct {
	matcher    KeyMatcher
	assistants []Assistant
	owners     []int // key index → assistants index
	byID       map[string]int
}

type assistantsOptions struct {
	getenv func(string) string
	header string // "" for JWT mode
	jwt    []JWTOption
	logger *slog.Logger
}

// AssistantsOption configures NewAssistants.
type AssistantsOption func(*assistantsOptions)

// WithGetenv sets how secret_env variables are read (default os.Getenv).
func WithGetenv(getenv func(string) string) AssistantsOption {
	return func(o *assistantsOptions) { o.getenv = getenv }
}

// WithJWTOptions passes options (leeway, max token age, …) to the JWT
// verification of every secret.
func WithJWTOptions(opts ...JWTOption) AssistantsOption {
	return func(o *assistantsOptions) { o.jwt = append(o.jwt, opts...) }
}

// WithHeaderMode switches from JWT verification to header mode: each secret
// is a whole value of headerName (see HeaderAuthenticator).
func WithHeaderMode(headerName string) AssistantsOption {
	return func(o *assistantsOptions) { o.header = headerName }
}

// WithLogger sets where reloads and failed reloads are logged (default:
// discard). Secrets are never logged.
func WithLogger(l *slog.Logger) AssistantsOption { return func(o *assistantsOptions) { o.logger = l } }

// NewAssistants loads the assistants file at path and returns its
// authenticator. It fails if the file or any secret it names does not load.
func NewAssistants(path string, opts ...AssistantsOption) (*Assistants, error) {
	o := assistantsOptions{getenv: os.Getenv, logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	switch {
	case path == "":
		return nil, errors.New("auth: assistants file path is empty")
	case o.getenv == nil:
		return nil, errors.New("auth: getenv must not be nil")
	case o.logger == nil:
		return nil, errors.New("auth: logger must not be nil")
	}
	a := &Assistants{path: path, assistantsOptions: o}
	a.watch = &filewatch.Watcher[*state]{Read: a.build, Apply: a.install, Report: a.logFailure}
	if err := a.watch.Load(); err != nil {
		return nil, err
	}
	return a, nil
}

// build loads the file and secrets into a new state; the stamp is the
// digest of the file, the secrets and where each came from.
func (a *Assistants) build() (*state, filewatch.Stamp, error) {
	l, err := load(a.path, a.getenv)
	if err != nil {
		return nil, filewatch.Stamp{}, err
	}
	st := &state{assistants: l.assistants, owners: l.owners, byID: make(map[string]int, len(l.assistants))}
	for i, as := range l.assistants {
		st.byID[strings.ToLower(as.ID)] = i
	}
	if a.header != "" {
		st.matcher, err = NewHeaderAuthenticator(a.header, l.secrets)
	} else {
		st.matcher, err = NewJWTAuthenticator(l.secrets, a.jwt...)
	}
	if err != nil {
		return nil, filewatch.Stamp{}, fmt.Errorf("assistants file %s: %w", a.path, err)
	}
	return st, l.digest, nil
}

// install swaps st in, and logs it unless it is the first.
func (a *Assistants) install(st *state) error {
	if a.cur.Swap(st) != nil {
		a.logger.Info("assistants file loaded", "file", a.path,
			"assistants", len(st.assistants), "secrets", len(st.owners))
	}
	return nil
}

func (a *Assistants) logFailure(err error) {
	a.logger.Error("assistants file reload failed; keeping the previous assistants and secrets",
		"file", a.path, "error", err)
}

// Reload re-reads the file and every secret and swaps them in. On error
// (logged) the previous configuration stays in force. Wire it to SIGHUP.
func (a *Assistants) Reload() error { return a.watch.Reload() }

// Poll re-reads the file and every secret now and swaps them in if they
// changed, as Watch does every interval. A failure is logged once until it
// changes.
func (a *Assistants) Poll() { a.watch.Poll() }

// Watch polls every interval until ctx ends; it returns at once if interval
// is not positive.
func (a *Assistants) Watch(ctx context.Context, interval time.Duration) { a.watch.Run(ctx, interval) }

// Assistants returns the configured assistants, in file order.
func (a *Assistants) Assistants() []Assistant {
	return append([]Assistant(nil), a.cur.Load().assistants...)
}

// Name returns the configured name of the assistant with id (ids compare
// case-insensitively), and false when it has none. It reflects reloads.
func (a *Assistants) Name(id string) (string, bool) {
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

// AssistantsFromContext returns the assistants whose secret verified the
// request whose context ctx is (the receiver passes it to the Consumer), or
// nil.
func AssistantsFromContext(ctx context.Context) []Assistant {
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
func (a *Assistants) Authenticate(r *http.Request) error {
	_, err := a.match(r)
	return err
}

// AuthenticateContext verifies r against every secret and returns r's
// context carrying the assistants whose secret verified it.
func (a *Assistants) AuthenticateContext(r *http.Request) (context.Context, error) {
	p, err := a.match(r)
	if err != nil {
		return nil, err
	}
	return context.WithValue(r.Context(), ctxKey{}, p), nil
}

func (a *Assistants) match(r *http.Request) (*principal, error) {
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
func (a *Assistants) AuthorizeEvent(r *http.Request, ev watson.Event) error {
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
	mismatch := &AuthError{Reason: ReasonAssistantMismatch}
	missing := &AuthError{Reason: ReasonAssistantMissing}
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
