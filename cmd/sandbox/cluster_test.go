package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// TestKubernetesJob reads docs/cluster/grade-job.yaml as Kubernetes would
// and runs its pods as local processes: every index with the environment
// the Job controller gives it and the container's arguments, the /data
// volume mapped to a folder here. The merge Job's command then combines
// the shards into the report of an unsharded grading.
func TestKubernetesJob(t *testing.T) {
	root := testutil.RepoRoot(t)
	var job struct {
		Kind string `yaml:"kind"`
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Args []string `yaml:"args"`
						Env  []struct{ Name, Value string }
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "cluster", "grade-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("not an Indexed Job of one container: %+v", job)
	}
	c := job.Spec.Template.Spec.Containers[0]
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name+"="+e.Value)
		if e.Name == "SANDBOX_SHARDS" && e.Value != strconv.Itoa(job.Spec.Completions) {
			t.Errorf("SANDBOX_SHARDS is %s, completions %d: they must be equal", e.Value, job.Spec.Completions)
		}
	}
	data := clusterData(t)
	mapPaths := func(s string) string { return strings.ReplaceAll(s, "/data", data) }
	for i := range job.Spec.Completions {
		args := make([]string, len(c.Args))
		for j, a := range c.Args {
			// Kubernetes expands $(VAR) from the container's environment.
			args[j] = mapPaths(strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i)))
		}
		gradeRun(t, append([]string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i)}, env...), args...)
	}
	// The merge Job: its shell command, with the volume mapped.
	m, err := os.ReadFile(filepath.Join(root, "docs", "cluster", "merge-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	merge := regexp.MustCompile(`sandbox grade merge [^\n]+`).Find(m)
	if merge == nil {
		t.Fatal("merge-job.yaml runs no sandbox grade merge")
	}
	sh := exec.Command("/bin/sh", "-c", mapPaths(string(merge)))
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", merge, err, out)
	}
	compareWithUnsharded(t, data, filepath.Join(data, "reports", "all"))
}

// TestSlurmArray runs docs/cluster/grade.sbatch as the tasks of its array
// would, each with the variables Slurm sets, then the merge its comment
// gives.
func TestSlurmArray(t *testing.T) {
	root := testutil.RepoRoot(t)
	script := filepath.Join(root, "docs", "cluster", "grade.sbatch")
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#SBATCH --array=(\d+)-(\d+)$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("grade.sbatch declares no --array=LOW-HIGH")
	}
	low, _ := strconv.Atoi(m[1])
	high, _ := strconv.Atoi(m[2])
	data := clusterData(t)
	for id := low; id <= high; id++ {
		cmd := exec.Command("bash", script)
		cmd.Dir = data
		cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+sharedCache(t),
			fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", id), fmt.Sprintf("SLURM_ARRAY_TASK_MIN=%d", low),
			fmt.Sprintf("SLURM_ARRAY_TASK_COUNT=%d", high-low+1), "SLURM_CPUS_PER_TASK=2")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("task %d: %v\n%s", id, err, out)
		}
	}
	merge := regexp.MustCompile(`--wrap '([^']+)'`).FindStringSubmatch(string(b))
	if merge == nil {
		t.Fatal("grade.sbatch's comment gives no merge command")
	}
	sh := exec.Command("/bin/sh", "-c", merge[1])
	sh.Dir = data
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", merge[1], err, out)
	}
	compareWithUnsharded(t, data, filepath.Join(data, "reports", "all"))
}

// clusterData is the shared folder of a cluster grading: spec.yaml and
// submissions/ (the fixture of TestGrade).
func clusterData(t *testing.T) string {
	t.Helper()
	dir, spec, subs := gradeFixture(t)
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	if err := os.Rename(spec, filepath.Join(data, "spec.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(subs, filepath.Join(data, "submissions")); err != nil {
		t.Fatal(err)
	}
	return data
}

// compareWithUnsharded grades data's submissions in one go and compares
// the summary with the merged one in merged.
func compareWithUnsharded(t *testing.T, data, merged string) {
	t.Helper()
	whole := filepath.Join(data, "whole")
	gradeRun(t, nil, "grade", "--spec", filepath.Join(data, "spec.yaml"), "--out", whole, filepath.Join(data, "submissions"))
	a, err := os.ReadFile(filepath.Join(merged, "summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(whole, "summary.txt"))
	if string(a) != string(b) {
		t.Errorf("merged summary:\n%s\nunsharded:\n%s", a, b)
	}
	if !strings.Contains(string(a), "ada") || !strings.Contains(string(a), "dee") {
		t.Errorf("the merged summary lacks students:\n%s", a)
	}
}
