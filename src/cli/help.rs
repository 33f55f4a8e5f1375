//! Reference text shown by `--help`: the schedule grammar and the manifest keys, so that a user
//! without the README at hand can still write a spec or a manifest.

// The texts are macros so that `concat!` can join them for commands that take both.

/// The schedule spec grammar (`--schedule`, `schedule = "..."` in manifests).
macro_rules! schedules {
    () => {
        "\
Schedules (--schedule, and schedule = \"...\" in a manifest): kind:key=value,... with absolute LRs.
Warmup is linear from 0 (step 0 has LR 0, step warmup-1 the peak); after total the LR is held.
  constant          peak, warmup, total
  cosine            peak, end, warmup, total
  linear            peak, end, warmup, total
  wsd               peak, end, warmup, total, decay_start, shape (exp|linear|cosine|sqrt; linear when not given)
  steps             peak, warmup, total, drops (8000@9e-5;12000@3e-5)
  rsqrt             peak, warmup, total, timescale (default warmup): peak*sqrt(W/step) from step W
  poly              peak, end, warmup, total, power (default 1): end + (peak-end)*(1-p)^power
  exp               peak, warmup, total, gamma, every (default 1), staircase (true|false)
  cosine_restarts   peak, end, warmup, total, cycles, mult (default 1)
  file:PATH[#COLUMN]  the LR of every step from a CSV (a step column may skip steps: gaps up to
                    1 % of the run are interpolated)
  logged            the log's own LR column, interpolated between logged steps
Example: cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000"
    };
}

/// The keys of a run manifest (`--manifest`).
macro_rules! manifest {
    () => {
        "\
Manifests (--manifest M.toml) list runs, paths relative to the manifest:
  [[run]]
  name = \"cosine_24000\"               required, unique
  path = \"csv_400/cosine_24000.csv\"   required: a log file or folder in any format inspect reads
  schedule = \"cosine:...\"              a spec, \"logged\", or omit to use the log's LR
  role = \"fit\"                         fit (default) or test
  min_step = 2160                      point filters
  max_step = 23999
  loss = \"eval\"                        the loss series (default: the training loss)
  lr = \"train/learning_rate\"           the LR series (default: found by name)
  lr_shift = 1                         use the LR logged at step s for step s + 1
  select = \"run=NAME\"                  one run of a multi-run log (or COLUMN=VALUE of a CSV)
  step_col = \"iter\"                    the step column of a CSV
  params = 4e8                         model size N (joint and size laws)
  tokens_per_step = 524288             D = step x tokens_per_step (size laws)
  at_steps = [8000, 16000]             where size laws read the loss (default: the last step)
Unknown keys are errors."
    };
}

pub(super) const SCHEDULES: &str = schedules!();
pub(super) const MANIFEST: &str = manifest!();

/// Both, for commands that read runs from a log or a manifest.
pub(super) const SCHEDULES_AND_MANIFEST: &str = concat!(schedules!(), "\n\n", manifest!());
