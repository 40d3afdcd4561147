//! The progress bar of git scans on stderr (#5, #16), drawn by `indicatif`: the objects of the
//! pack indexes with a bar and an ETA (their total is known from the indexes before the pass
//! starts), then the commits read, then the blobs outside the packs with a bar. The binary
//! shows it only on a terminal and without `--quiet`, never in CI logs; the library only calls
//! back with `git::Progress`.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leadey_scan::git::{Phase, Progress};

/// A progress bar fed with `git::Progress` reports, from any thread.
#[derive(Debug)]
pub struct HistoryBar {
    bar: ProgressBar,
    /// The phase the bar is styled for (`None` before the first report).
    phase: Mutex<Option<Phase>>,
}

impl HistoryBar {
    /// A bar drawn on stderr.
    pub fn stderr() -> HistoryBar {
        HistoryBar::to(ProgressDrawTarget::stderr())
    }

    fn to(target: ProgressDrawTarget) -> HistoryBar {
        HistoryBar {
            bar: ProgressBar::with_draw_target(None, target),
            phase: Mutex::new(None),
        }
    }

    /// Shows `p`. A new phase gets its own style, and its own count and ETA from zero.
    pub fn update(&self, p: &Progress) {
        let mib = p.bytes as f64 / (1024.0 * 1024.0);
        let secs = p.elapsed.as_secs_f64().max(1e-3);
        self.bar
            .set_message(format!("{mib:.1} MiB, {:.1} MiB/s", mib / secs));
        if p.total > 0 {
            self.bar.set_length(p.total);
        }
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if *phase != Some(p.phase) {
            *phase = Some(p.phase);
            self.bar.set_style(style(p.phase));
            self.bar.reset();
        }
        self.bar.set_position(p.done);
    }

    /// Removes the bar, so the summary prints on a clean line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The bar's look in `phase`.
fn style(phase: Phase) -> ProgressStyle {
    let template = match phase {
        Phase::Commits => "leadey-scan: reading history: {pos} commits",
        Phase::Objects => "leadey-scan: scanning objects [{bar:25}] {pos}/{len}, {msg}, ETA {eta}",
        Phase::Blobs => "leadey-scan: scanning blobs [{bar:25}] {pos}/{len}, {msg}, ETA {eta}",
    };
    ProgressStyle::with_template(template)
        .expect("the progress templates are valid (tests render each)")
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// A terminal that keeps the last line drawn.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            // indicatif pads with spaces over the rest of the previous line.
            if !s.trim().is_empty() {
                *self.0.lock().unwrap() = s.to_string();
            }
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    fn report(phase: Phase, done: u64, total: u64) -> Progress {
        Progress {
            phase,
            done,
            total,
            bytes: 3 * 1024 * 1024,
            elapsed: Duration::from_secs(2),
        }
    }

    #[test]
    fn each_phase_draws_its_line_and_the_bar_clears_at_the_end() {
        let screen = Screen::default();
        let bar = HistoryBar::to(ProgressDrawTarget::term_like(Box::new(screen.clone())));
        let shown = |p: Progress| {
            bar.update(&p);
            bar.bar.force_draw();
            screen.0.lock().unwrap().clone()
        };
        let line = shown(report(Phase::Objects, 250, 1000));
        assert!(
            line.starts_with("leadey-scan: scanning objects [======>"),
            "{line}"
        );
        assert!(
            line.contains("] 250/1000, 3.0 MiB, 1.5 MiB/s, ETA "),
            "{line}"
        );
        let line = shown(report(Phase::Commits, 42, 0));
        assert_eq!(line, "leadey-scan: reading history: 42 commits");
        let line = shown(report(Phase::Blobs, 5, 10));
        assert!(line.starts_with("leadey-scan: scanning blobs [="), "{line}");
        assert!(line.contains("] 5/10, 3.0 MiB"), "{line}");
        bar.finish();
        assert_eq!(*screen.0.lock().unwrap(), "");
    }
}
