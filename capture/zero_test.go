package capture_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
)

// noPanic runs f and fails t if it panics.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panics: %v", what, r)
		}
	}()
	f()
}

// TestZeroValue: the zero Reader and Writer have no input or output: their
// reads and writes return an error naming the constructor (not io.EOF, so
// a read loop does not take the misuse for an empty capture), and Close
// succeeds. The zero RecordError has a message, and the zero FlowSizes a
// mean and standard deviation of 0. Next and NextInto used to dereference
// the Reader's nil buffer, WritePacket and Flush the Writer's, Error the
// nil Err; Mean and StdDev returned NaN.
func TestZeroValue(t *testing.T) {
	noPanic(t, "zero Reader", func() {
		var r capture.Reader
		for range 2 {
			if _, err := r.Next(); err == nil || err == io.EOF || !strings.Contains(err.Error(), "NewReader") {
				t.Errorf("Next on the zero Reader: %v, want an error naming NewReader", err)
			}
			if _, err := r.NextInto(make([]byte, 64)); err == nil || err == io.EOF {
				t.Errorf("NextInto on the zero Reader: %v, want an error", err)
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close of the zero Reader: %v", err)
		}
	})
	noPanic(t, "zero Writer", func() {
		var w capture.Writer
		if err := w.WritePacket(capture.Packet{Data: []byte{1}}); err == nil || !strings.Contains(err.Error(), "NewWriter") {
			t.Errorf("WritePacket on the zero Writer: %v, want an error naming NewWriter", err)
		}
		if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "NewWriter") {
			t.Errorf("Flush of the zero Writer: %v, want an error naming NewWriter", err)
		}
	})
	noPanic(t, "zero RecordError", func() {
		var e capture.RecordError
		if msg := e.Error(); !strings.HasPrefix(msg, "capture: ") {
			t.Errorf("zero RecordError: %q", msg)
		}
		if e.Unwrap() != nil {
			t.Errorf("zero RecordError unwraps to %v", e.Unwrap())
		}
		e = capture.RecordError{Record: 3, Offset: 40, Reason: "why"}
		if got, want := e.Error(), "capture: record 3 at offset 40: unreadable record: why"; got != want {
			t.Errorf("RecordError without Err: %q, want %q", got, want)
		}
	})
	var d capture.FlowSizes
	if m, s := d.Mean(), d.StdDev(); m != 0 || s != 0 {
		t.Errorf("zero FlowSizes: Mean %v, StdDev %v; want 0, 0", m, s)
	}
}

// TestNilReaderWriter: NewReader, NewWriter and Write given a nil
// io.Reader or io.Writer return an error saying so. NewReader used to
// dereference it; NewWriter accepted it, and the first Flush (at once in
// Write) dereferenced it.
func TestNilReaderWriter(t *testing.T) {
	noPanic(t, "NewReader(nil)", func() {
		if r, err := capture.NewReader(nil); r != nil || err == nil || !strings.Contains(err.Error(), "nil") {
			t.Errorf("NewReader(nil) = %v, %v; want nil and an error naming the nil reader", r, err)
		}
	})
	noPanic(t, "NewWriter(nil)", func() {
		if w, err := capture.NewWriter(nil, capture.LinkEthernet); w != nil || err == nil || !strings.Contains(err.Error(), "nil") {
			t.Errorf("NewWriter(nil) = %v, %v; want nil and an error naming the nil writer", w, err)
		}
	})
	noPanic(t, "Write(nil)", func() {
		if err := capture.Write(nil, []capture.Packet{{Data: []byte{1}}}); err == nil || !strings.Contains(err.Error(), "nil") {
			t.Errorf("Write(nil) = %v, want an error naming the nil writer", err)
		}
	})
	// A nil packet list is an empty capture.
	var buf bytes.Buffer
	if err := capture.Write(&buf, nil); err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next of an empty capture: %v, want io.EOF", err)
	}
}
