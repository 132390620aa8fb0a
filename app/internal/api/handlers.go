package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/store"
	"github.com/example/jobs/app/internal/web"
)

const unavailable = "redis is unavailable; retry shortly (GET /readyz says when it is back)"

func (a *API) submit(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		web.JSON(w, http.StatusUnsupportedMediaType, web.ErrorBody{
			Error: fmt.Sprintf("Content-Type is %q; send the body as JSON with Content-Type: application/json", ct)})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			web.JSON(w, http.StatusRequestEntityTooLarge, web.ErrorBody{
				Error: fmt.Sprintf("request body is larger than %d bytes; send a smaller input or split the work into several jobs", MaxBody)})
			return
		}
		web.Error(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	}
	sub, err := a.Kinds.DecodeSubmission(body)
	if err != nil {
		writeInputError(w, err)
		return
	}
	now := a.Now().UTC()
	rec := &jobs.Record{ID: jobs.NewID(now), Kind: sub.Kind, Status: jobs.StatusQueued, CreatedAt: now, Input: sub.Input}
	if err := a.Store.Create(r.Context(), rec); err != nil {
		a.storeFailed(w, r, err)
		return
	}
	if err := a.Queue.Enqueue(r.Context(), rec.ID); err != nil {
		// Without a task the record would sit queued forever: take it back.
		if derr := a.Store.Delete(r.Context(), rec.ID); derr != nil {
			a.Log.Error("could not remove a job whose enqueue failed", "id", rec.ID, "err", derr)
		}
		a.storeFailed(w, r, err)
		return
	}
	a.Metrics.Submitted.WithLabelValues(rec.Kind).Inc()
	a.Log.Info("job queued", "id", rec.ID, "kind", rec.Kind, "status", rec.Status)
	w.Header().Set("Location", "/jobs/"+rec.ID)
	web.JSON(w, http.StatusCreated, rec)
}

func writeInputError(w http.ResponseWriter, err error) {
	var ie *jobs.InputError
	if errors.As(err, &ie) {
		web.JSON(w, ie.HTTPStatus, web.ErrorBody{Error: ie.Error(), Field: ie.Field})
		return
	}
	web.Error(w, http.StatusBadRequest, err.Error())
}

// ListPage is the GET /jobs reply.
type ListPage struct {
	Jobs       []*jobs.Record `json:"jobs"`
	NextCursor string         `json:"next_cursor"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var status jobs.Status
	if s := q.Get("status"); s != "" {
		st, ok := jobs.ParseStatus(s)
		if !ok {
			web.JSON(w, http.StatusBadRequest, web.ErrorBody{Field: "status",
				Error: fmt.Sprintf("status %q is not one of queued, running, succeeded, failed", s)})
			return
		}
		status = st
	}
	limit := DefaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			web.JSON(w, http.StatusBadRequest, web.ErrorBody{Field: "limit",
				Error: fmt.Sprintf("limit %q must be an integer from 1 to %d", s, MaxLimit)})
			return
		}
		limit = n
	}
	cursor := q.Get("cursor")
	if cursor != "" && !jobs.ValidID(cursor) {
		web.JSON(w, http.StatusBadRequest, web.ErrorBody{Field: "cursor",
			Error: fmt.Sprintf("cursor %q is not a job id; pass next_cursor from the previous page", cursor)})
		return
	}
	recs, next, err := a.Store.List(r.Context(), status, cursor, limit)
	if err != nil {
		a.storeFailed(w, r, err)
		return
	}
	if recs == nil {
		recs = []*jobs.Record{}
	}
	web.JSON(w, http.StatusOK, ListPage{Jobs: recs, NextCursor: next})
}

// load reads the job named in the path, writing the error reply itself.
func (a *API) load(w http.ResponseWriter, r *http.Request) (*jobs.Record, bool) {
	id := r.PathValue("id")
	if !jobs.ValidID(id) {
		web.Error(w, http.StatusNotFound, fmt.Sprintf("no job %q: job ids are %d lowercase hex characters, as returned by POST /jobs", id, jobs.IDLen))
		return nil, false
	}
	rec, err := a.Store.Get(r.Context(), id)
	if err != nil {
		a.storeFailed(w, r, err)
		return nil, false
	}
	return rec, true
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	if rec, ok := a.load(w, r); ok {
		web.JSON(w, http.StatusOK, rec)
	}
}

// ResultBody is the GET /jobs/{id}/result reply.
type ResultBody struct {
	ID     string          `json:"id"`
	Kind   string          `json:"kind"`
	Result json.RawMessage `json:"result"`
}

func (a *API) result(w http.ResponseWriter, r *http.Request) {
	rec, ok := a.load(w, r)
	if !ok {
		return
	}
	switch rec.Status {
	case jobs.StatusSucceeded:
		web.JSON(w, http.StatusOK, ResultBody{ID: rec.ID, Kind: rec.Kind, Result: rec.Result})
	case jobs.StatusFailed:
		web.JSON(w, http.StatusConflict, web.ErrorBody{Status: string(rec.Status),
			Error: fmt.Sprintf("job failed after %d attempts and has no result: %s", rec.Attempts, rec.Error)})
	default:
		web.JSON(w, http.StatusConflict, web.ErrorBody{Status: string(rec.Status),
			Error: fmt.Sprintf("job is %s; the result is available once GET /jobs/%s shows status succeeded", rec.Status, rec.ID)})
	}
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !jobs.ValidID(id) {
		web.Error(w, http.StatusNotFound, fmt.Sprintf("no job %q: job ids are %d lowercase hex characters, as returned by POST /jobs", id, jobs.IDLen))
		return
	}
	err := a.Store.Delete(r.Context(), id)
	var started *store.StartedError
	switch {
	case errors.As(err, &started):
		web.JSON(w, http.StatusConflict, web.ErrorBody{Status: string(started.Status), Error: started.Error()})
		return
	case err != nil:
		a.storeFailed(w, r, err)
		return
	}
	if err := a.Queue.Withdraw(r.Context(), id); err != nil {
		// The worker drops a task whose record is gone, so this only costs a slot.
		a.Log.Warn("could not withdraw a deleted job's task", "id", id, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
}

// storeFailed maps store errors: a missing job is 404, anything else means
// Redis did not answer properly, which the client should retry: 503.
func (a *API) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		web.Error(w, http.StatusNotFound, fmt.Sprintf("no job %q; it never existed or was deleted", r.PathValue("id")))
		return
	}
	a.Log.Error("redis call failed", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "1")
	// The failure may be this pod's alone: after a Redis password rotation, a pod draining with the
	// old password fails while new pods work. A kept-alive connection would bring the retry back
	// here; closing it lets the retry go through the Service to a pod that is ready.
	w.Header().Set("Connection", "close")
	web.Error(w, http.StatusServiceUnavailable, unavailable)
}
