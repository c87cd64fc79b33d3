package xdp

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
)

// FuzzDecodeEvent: decodeEvent never panics on a ring-buffer record of any
// length or content, refuses records shorter than struct cms_event and
// keys of neither length, reports other than crossed and dropped and
// epochs other than 0 and 1, and on success returns exactly the record's
// fields.
func FuzzDecodeEvent(f *testing.F) {
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1234, 80, flow.ProtoTCP)
	rec := make([]byte, eventSize)
	copy(rec, k.Bytes())
	rec[40] = byte(k.Len())
	binary.NativeEndian.PutUint64(rec[48:], 0x1122334455667788)
	binary.NativeEndian.PutUint32(rec[56:], 1000)
	binary.NativeEndian.PutUint32(rec[60:], 1)
	binary.NativeEndian.PutUint32(rec[64:], uint32(cms.ReportCrossed))
	f.Add(rec)
	dropped := bytes.Clone(rec)
	binary.NativeEndian.PutUint32(dropped[64:], uint32(cms.ReportDropped))
	f.Add(dropped)
	epoch1 := bytes.Clone(dropped)
	binary.NativeEndian.PutUint32(epoch1[68:], 1)
	f.Add(epoch1)
	epoch2 := bytes.Clone(rec) // no such epoch
	binary.NativeEndian.PutUint32(epoch2[68:], 2)
	f.Add(epoch2)
	none := bytes.Clone(rec) // report 0: never sent
	binary.NativeEndian.PutUint32(none[64:], 0)
	f.Add(none)
	f.Add(rec[:eventSize-1])
	f.Add(make([]byte, eventSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err != nil {
			return
		}
		if len(b) < eventSize {
			t.Fatalf("accepted a %d-byte record", len(b))
		}
		if n := e.Key.Len(); n != int(b[40]) || !bytes.Equal(e.Key.Bytes(), b[:n]) {
			t.Fatalf("key %v from length byte %d and bytes %x", e.Key, b[40], b[:40])
		}
		ne := binary.NativeEndian
		if r := ne.Uint32(b[64:]); r != uint32(cms.ReportCrossed) && r != uint32(cms.ReportDropped) {
			t.Fatalf("accepted report %d", r)
		}
		if ep := ne.Uint32(b[68:]); ep > 1 {
			t.Fatalf("accepted epoch %d", ep)
		}
		if e.Hash != ne.Uint64(b[48:]) || e.Estimate != ne.Uint32(b[56:]) || e.CPU != ne.Uint32(b[60:]) || uint32(e.Report) != ne.Uint32(b[64:]) ||
			uint32(e.Epoch) != ne.Uint32(b[68:]) {
			t.Fatalf("event %+v from record %x", e, b[:eventSize])
		}
	})
}
