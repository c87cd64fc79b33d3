package xdp

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// FuzzDecodeEvent: decodeEvent never panics on a ring-buffer record of any
// length or content, refuses records shorter than struct flow_event and
// outcomes past the last, and for a parsed frame refuses keys of neither
// length and fragment values past the last and returns exactly the
// record's key.
func FuzzDecodeEvent(f *testing.F) {
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1234, 80, flow.ProtoTCP)
	rec := make([]byte, eventSize)
	copy(rec, k.Bytes())
	rec[40] = byte(k.Len())
	binary.NativeEndian.PutUint16(rec[48:], 14)
	binary.NativeEndian.PutUint16(rec[50:], 34)
	binary.NativeEndian.PutUint64(rec[64:], 0x1122334455667788)
	binary.NativeEndian.PutUint32(rec[76:], 60)
	f.Add(rec)
	f.Add(rec[:eventSize-1])
	bad := bytes.Clone(rec)
	bad[40] = 200 // a key length past the key field
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err != nil {
			return
		}
		if len(b) < eventSize {
			t.Fatalf("accepted a %d-byte record", len(b))
		}
		ne := binary.NativeEndian
		if e.Hash != ne.Uint64(b[64:]) || e.FrameLen != int(ne.Uint32(b[76:])) || e.Outcome != flow.Outcome(ne.Uint32(b[72:])) {
			t.Fatalf("event %+v from record %x", e, b[:eventSize])
		}
		if e.Outcome >= flow.NumOutcomes {
			t.Fatalf("accepted outcome %d", e.Outcome)
		}
		if e.Outcome != flow.OutcomeOK {
			return
		}
		if e.Info.Fragment > flow.LaterFragment {
			t.Fatalf("accepted fragment %d", e.Info.Fragment)
		}
		if n := e.Info.Key.Len(); n != int(b[40]) || !bytes.Equal(e.Info.Key.Bytes(), b[:n]) {
			t.Fatalf("key %v from length byte %d and bytes %x", e.Info.Key, b[40], b[:40])
		}
	})
}

// decodeEvent refuses the enum fields a kernel never writes: an outcome
// past the last (it would index past a [flow.NumOutcomes] array, as
// [Stats.Outcomes] is indexed) and, for a parsed frame, a fragment value
// that is none of none, first and later.
func TestDecodeEvent_RefusesUnknownEnums(t *testing.T) {
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1234, 80, flow.ProtoTCP)
	rec := make([]byte, eventSize)
	copy(rec, k.Bytes())
	rec[40] = byte(k.Len())
	if _, err := decodeEvent(rec); err != nil {
		t.Fatalf("valid record: %v", err)
	}
	for o := uint32(flow.NumOutcomes); o < flow.NumOutcomes+2; o++ {
		bad := bytes.Clone(rec)
		binary.NativeEndian.PutUint32(bad[72:], o)
		if e, err := decodeEvent(bad); err == nil || !strings.Contains(err.Error(), "outcome "+strconv.Itoa(int(o))) {
			t.Errorf("outcome %d: event %+v, error %v; want an error naming the outcome", o, e, err)
		}
	}
	bad := bytes.Clone(rec)
	bad[52] = byte(flow.LaterFragment) + 1
	if e, err := decodeEvent(bad); err == nil || !strings.Contains(err.Error(), "fragment 3") {
		t.Errorf("fragment 3: event %+v, error %v; want an error naming the fragment", e, err)
	}
}
