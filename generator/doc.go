// Package generator turns helios-scaffold's inputs into files and writes
// them without losing a user's work.
//
// Generation has two steps. [Render] is pure: from [Inputs] it returns every
// file's bytes, the same bytes for the same inputs. [NewPlan] then compares
// them with the repository and with the [Answers] recorded by the last run,
// and gives each file its fate: create, update, unchanged, skip-edited
// (a tool file the user has edited), conflict (a file that was not ours) or
// stale (ours, no longer generated, left in place). [Plan.Apply] writes
// nothing when anything conflicts; otherwise it writes every file to a
// temporary name first and renames them into place, so a failed or killed
// run never leaves a partial file.
package generator
