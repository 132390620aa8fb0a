package web

import "net/http"

// JSONFallbacks makes the mux's own 404 and 405 replies JSON like every
// other reply, keeping the Allow header the mux sets for 405.
func JSONFallbacks(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		switch probe.code {
		case http.StatusMethodNotAllowed:
			Error(w, probe.code, "method "+r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+probe.header.Get("Allow"))
		case http.StatusNotFound, 0:
			Error(w, http.StatusNotFound, "no route for "+r.URL.Path)
		default:
			// A redirect (e.g. path cleaning): pass it through as the mux meant.
			mux.ServeHTTP(w, r)
		}
	})
}

// headerProbe captures what the mux's fallback handler would write.
type headerProbe struct {
	header http.Header
	code   int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.code = code }
