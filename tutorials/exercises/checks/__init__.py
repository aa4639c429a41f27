"""One checker per exercise (same file name as its solution), written with tutorials.exercises.grader."""
