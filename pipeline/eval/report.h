// The evaluation report of `recallctl eval --report DIR`: a static page with
// charts, for people, beside the JSON, for scripts.
//
// WriteEvalReport(report, context, dir) creates DIR (and its parents) when
// missing and writes into it, replacing files of the same names:
//   index.html       the page: title, date, target, test file, train world,
//                    the note on the data and split, the command line,
//                    users; the four charts as <img>; a
//                    table of Recall/HR/NDCG/coverage@K per system and one of
//                    each channel's share of the merged answer's hits.
//                    Self-contained: no script, nothing from the network;
//                    every string from data (channel names, paths, the
//                    command line) is HTML-escaped.
//   recall_at_k.png, hr_at_k.png, coverage.png
//                    line charts, K on a log axis, one line per system:
//                    merged, each channel alone that scored users, and the
//                    popularity and item-kNN baselines when computed
//                    (users > 0).
//   hit_share.png    each channel's share of the merged answer's hits within
//                    the top max(K) (EvalReport::hit_share), as bars.
//   report.json      EvalReport::ToJson() (hit shares included) and a newline.
//   recall_at_k.tsv, hr_at_k.tsv, coverage.tsv, hit_share.tsv
//                    the charts' data; plots.gp, the gnuplot script that draws
//                    them; gnuplot.log, its output.
// The charts are drawn by running `gnuplot plots.gp` (found through PATH;
// Debian package gnuplot-nox, terminal pngcairo) with DIR as its working
// directory: the script names only files in DIR, never a path from data, and
// channel names reach it as single-quoted gnuplot strings (GnuplotString).
//
// Errors: the errno's code naming the path when DIR or a file cannot be
// written; FAILED_PRECONDITION naming gnuplot and DIR/plots.gp when gnuplot
// cannot be started (not installed, not in PATH); INTERNAL naming gnuplot,
// DIR/plots.gp and the end of its output when it exits non-zero or dies.
// What was written before an error stays. Blocks while gnuplot runs (about a
// second). Two calls on one DIR at once overwrite each other's files.
#ifndef RECALL_PIPELINE_EVAL_REPORT_H_
#define RECALL_PIPELINE_EVAL_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pipeline/eval/eval.h"

namespace recall {

// What the page says about the run, beside the numbers.
struct ReportContext {
  // The system evaluated, e.g. "127.0.0.1:50051".
  std::string target;
  // EvalOptions::test_tsv and train_world (empty: no baselines).
  std::string test_tsv;
  std::string train_world;
  // Free text on the data and how the test split was made (eval's
  // --report_note; eval itself only sees the test file); empty: no row.
  std::string note;
  // The command line, argv[0] first; shown shell-quoted (CommandLineText).
  std::vector<std::string> argv;
  // When the run happened; shown in UTC.
  absl::Time time = absl::Now();
};

absl::Status WriteEvalReport(const EvalReport& report,
                             const ReportContext& context,
                             const std::string& dir);

// `text` with &, <, >, " and ' as HTML character references: safe in element
// content and in quoted attribute values.
std::string HtmlEscape(absl::string_view text);

// `text` as a gnuplot single-quoted string literal: quotes doubled, control
// characters (a newline would end the command) as spaces. Single-quoted
// strings undergo no backslash, macro (@) or backquote substitution.
std::string GnuplotString(absl::string_view text);

// `argv` as one line a POSIX shell would split back into it: arguments of
// only safe characters as they are, others single-quoted.
std::string CommandLineText(const std::vector<std::string>& argv);

}  // namespace recall

#endif  // RECALL_PIPELINE_EVAL_REPORT_H_
