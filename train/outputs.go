package train

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
)

// ConfigFile is the file in the run folder holding the run's effective
// configuration, written at its start; --config <dir>/config.yaml loads it.
const ConfigFile = "config.yaml"

// checkWritable checks, before anything is created or trained, that every
// output of c can be written: the checkpoint folder and each metric file
// (a probe file is created and removed in the folder, or in its nearest
// existing parent when it does not exist yet). A path that is a folder
// where a file is wanted, or a file where a folder is wanted, is refused
// naming the key.
func checkWritable(c config.Config) error {
	if c.CheckpointDir == "" {
		return fmt.Errorf("train: checkpoint_dir is empty; set a folder (config.Load makes up runs/<date>-<time>-<pid>)")
	}
	if err := probeDir("checkpoint_dir", c.CheckpointDir, c.CheckpointDir); err != nil {
		return err
	}
	f := MetricsPaths(c.MetricsJSONL, c.MetricsCSV)
	for _, o := range []struct{ key, value, path, name string }{
		{"metrics_jsonl", c.MetricsJSONL, f.JSONL, "metrics.jsonl"},
		{"metrics_csv", c.MetricsCSV, f.CSV, "metrics.csv"},
		{"metrics_csv", c.MetricsCSV, f.JSON, "metrics.json"},
		{"metrics_csv", c.MetricsCSV, f.PNG, "metrics.png"},
	} {
		if o.path == "" {
			continue
		}
		if err := probeFile(o.key, o.value, o.path, o.name); err != nil {
			return err
		}
	}
	return nil
}

// probeFile checks that the file path (written for key = value) can be
// created or replaced.
func probeFile(key, value, path, name string) error {
	what := fmt.Sprintf("%s = %s", key, value)
	if path != value {
		what += fmt.Sprintf(" (%s beside it)", path)
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("train: %s: %s is a folder; give a file path such as %s, or off", what, path, filepath.Join(path, name))
	case err == nil && !st.Mode().IsRegular():
		return fmt.Errorf("train: %s: %s is not a regular file; give a file path, or off", what, path)
	case err == nil && key == "metrics_jsonl": // appended to in place
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("train: %s cannot be written: %w; choose a writable path, or off", what, err)
		}
		_ = f.Close()
	}
	return probeDir(key, value, filepath.Dir(path))
}

// probeDir checks that files can be created in dir, or that dir can be
// created.
func probeDir(key, value, dir string) error {
	d := filepath.Clean(dir)
	for {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("train: %s = %s: %s is a file, not a folder; choose another path", key, value, d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
			return fmt.Errorf("train: %s = %s cannot be written: %w", key, value, err)
		}
		d = filepath.Dir(d)
	}
	// Named like the temporary files of atomic writes, which a resumed run
	// removes should this process die right here.
	f, err := os.CreateTemp(d, ".write-probe.tmp-*")
	if err != nil {
		return fmt.Errorf("train: %s = %s cannot be written: %w; choose a writable location", key, value, err)
	}
	_ = f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("train: %s = %s: removing the probe file: %w", key, value, err)
	}
	return nil
}

// runFiles lists the files of a run found in the outputs of c: checkpoints
// (model, state and temporary files) and ConfigFile in the checkpoint
// folder, and existing metric files; ckpts counts the checkpoints.
func runFiles(c config.Config) (found []string, ckpts int, err error) {
	ents, err := os.ReadDir(c.CheckpointDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("train: checkpoint_dir %s: %w", c.CheckpointDir, err)
	}
	for _, e := range ents {
		n := e.Name()
		isCkpt := strings.HasPrefix(n, "ckpt-") && strings.HasSuffix(n, ".safetensors")
		if isCkpt && !strings.HasSuffix(n, ".state.safetensors") {
			ckpts++
		}
		if isCkpt || n == ConfigFile || (strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-")) {
			found = append(found, filepath.Join(c.CheckpointDir, n))
		}
	}
	f := MetricsPaths(c.MetricsJSONL, c.MetricsCSV)
	for _, p := range []string{f.JSONL, f.CSV, f.JSON, f.PNG} {
		if st, err := os.Lstat(p); p != "" && err == nil && !st.IsDir() {
			found = append(found, p)
		}
	}
	return found, ckpts, nil
}

// previousRun returns the files of another run in the outputs of c, to be
// removed before training (force), or an error refusing the folder. A run
// resumed in its own folder (rs's) continues there.
func previousRun(c config.Config, rs *resumed, force bool) ([]string, error) {
	if rs != nil && sameDir(filepath.Dir(rs.path), c.CheckpointDir) {
		return nil, nil
	}
	found, ckpts, err := runFiles(c)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	if force {
		return found, nil
	}
	list := strings.Join(found[:min(len(found), 4)], ", ")
	if len(found) > 4 {
		list += fmt.Sprintf(" and %d more", len(found)-4)
	}
	if ckpts == 0 {
		return nil, fmt.Errorf("train: the outputs of this run hold files of an earlier run that saved no checkpoint (%s); choose a new folder (or other metric paths), or pass --force to delete them",
			list)
	}
	return nil, fmt.Errorf("train: %s already holds a run (%s); continue it with --resume %s, or choose a new folder (--force deletes the run's files)",
		c.CheckpointDir, list, c.CheckpointDir)
}

// removeRunFiles deletes the files of a previous run, saying so first.
func removeRunFiles(files []string, log *slog.Logger) error {
	if len(files) == 0 {
		return nil
	}
	log.Warn(fmt.Sprintf("--force: deleting %d files of the previous run: %s", len(files), strings.Join(files, ", ")))
	var errs []error
	for _, p := range files {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("train: --force: %w", err)
	}
	return nil
}

// writeConfigFile writes c into its run folder as ConfigFile, atomically.
func writeConfigFile(c config.Config) error {
	if err := checkpoint.WriteFile(filepath.Join(c.CheckpointDir, ConfigFile), c.YAML()); err != nil {
		return fmt.Errorf("train: writing the run's configuration: %w", err)
	}
	return nil
}

// sameDir reports whether a and b name the same folder.
func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
