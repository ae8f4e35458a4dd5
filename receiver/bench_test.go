package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/internal/benchdata"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/sender"
	"github.com/assistant-otel/assistant-otel/watson"
)

const benchSecret = "bench-secret-0123456789abcdef"

func benchAuth(b *testing.B) *auth.JWTAuthenticator {
	a, err := auth.NewJWTAuthenticator([][]byte{[]byte(benchSecret)})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// benchTokens signs n distinct tokens as Watson would (HS256, iat, exp).
func benchTokens(b *testing.B, n int) []string {
	out := make([]string, n)
	t0 := time.Now()
	for i := range out {
		tok, err := sender.Sign([]byte(benchSecret), t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = tok
	}
	return out
}

// BenchmarkJWTVerify verifies a token: the same one every time (what a
// verified-token cache would see if Watson reused its token) and a new one
// every time (Watson signs each call).
func BenchmarkJWTVerify(b *testing.B) {
	a := benchAuth(b)
	b.Run("same-token", func(b *testing.B) {
		tok := benchTokens(b, 1)[0]
		b.ReportAllocs()
		for b.Loop() {
			if err := a.VerifyToken(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh-token", func(b *testing.B) {
		toks := benchTokens(b, 4096)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := a.VerifyToken(toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkHandler runs the whole HTTP handler (routing, JWT, body read,
// decode, metrics) in process, with a consumer that drops the event. With
// "sdk-meter" the receiver's metrics go to a real SDK MeterProvider.
func BenchmarkHandler(b *testing.B) {
	corpus := benchdata.Corpus()
	discard := receiver.ConsumerFunc(func(context.Context, watson.Event, time.Time) error { return nil })
	for _, meter := range []string{"noop-meter", "sdk-meter"} {
		b.Run(meter, func(b *testing.B) {
			opts := []receiver.Option{}
			if meter == "sdk-meter" {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				opts = append(opts, receiver.WithMeter(mp.Meter("bench")))
			}
			rc, err := receiver.New(discard, benchAuth(b), opts...)
			if err != nil {
				b.Fatal(err)
			}
			h := rc.Handler()
			toks := benchTokens(b, 1024)
			var size int64
			for _, c := range corpus {
				size += int64(len(c.Data))
			}
			b.SetBytes(size / int64(len(corpus)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				body := corpus[i%len(corpus)].Data
				req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", toks[i%len(toks)])
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(fmt.Sprint(w.Code, w.Body.String()))
				}
				i++
			}
		})
	}
}
