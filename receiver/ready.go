package receiver

import (
	"net"
	"net/http"
)

// ReadyDetails reports whether /readyz may tell r why it is not ready or
// degraded: always when always is set (--readyz-details), otherwise only
// when r comes from a loopback address without a proxy's forwarding header
// (a proxy on the same host would make every caller look local). The
// reason can name internal endpoints and quote an upstream's error text;
// /readyz is unauthenticated.
func ReadyDetails(r *http.Request, always bool) bool {
	if always {
		return true
	}
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if _, ok := r.Header[h]; ok {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
