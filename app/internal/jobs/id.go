package jobs

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

// IDLen is the length of a job id: 14 hex digits of creation time in
// microseconds, then 10 hex digits of randomness.
const IDLen = 24

// Ids sort by creation time as plain strings, which is what lets the Redis
// indexes list newest first with ZREVRANGEBYLEX and page with the last id as
// the cursor, without a KEYS scan or a separate time score.
var idState struct {
	sync.Mutex
	last int64
}

// NewID returns a fresh id, strictly increasing within this process so that
// jobs submitted in the same microsecond still list in submission order.
func NewID(now time.Time) string {
	us := now.UnixMicro()
	idState.Lock()
	if us <= idState.last {
		us = idState.last + 1
	}
	idState.last = us
	idState.Unlock()
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	r := binary.BigEndian.Uint64(b[:]) >> 24
	return fmt.Sprintf("%014x%010x", us, r)
}

// ValidID reports whether s has the shape NewID produces; anything else can
// be turned away before it reaches Redis.
func ValidID(s string) bool {
	if len(s) != IDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
