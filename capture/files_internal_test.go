package capture

import (
	"errors"
	"io/fs"
	"testing"
)

// dirEntry is a directory's fs.DirEntry for visit.
type dirEntry string

func (d dirEntry) Name() string             { return string(d) }
func (dirEntry) IsDir() bool                { return true }
func (dirEntry) Type() fs.FileMode          { return fs.ModeDir }
func (dirEntry) Info() (fs.FileInfo, error) { return nil, errors.New("no info") }

// TestFileWalk_UnreadableDirectory: a subdirectory that cannot be listed
// is recorded and the walk goes on (visit returns nil), while the root's
// own error ends it. (Root reads every directory whatever its mode, so the
// test feeds visit the error filepath.WalkDir gives for one.)
func TestFileWalk_UnreadableDirectory(t *testing.T) {
	w := fileWalk{root: "top"}
	denied := &fs.PathError{Op: "open", Path: "top/private", Err: fs.ErrPermission}
	if err := w.visit("top/private", dirEntry("private"), denied); err != nil {
		t.Fatalf("visit of an unreadable subdirectory returned %v: the walk would stop", err)
	}
	if len(w.errs) != 1 || !errors.Is(w.errs[0], fs.ErrPermission) {
		t.Fatalf("recorded %v, want the permission error", w.errs)
	}
	rootErr := &fs.PathError{Op: "open", Path: "top", Err: fs.ErrPermission}
	if err := w.visit("top", dirEntry("top"), rootErr); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("visit of the unreadable root returned %v, want its error", err)
	}
}
