// Completion and drop-out rates per program and cohort
// Enrollments (ENROLLED_IN) per program and cohort by their status:
// graduated, dropped out, still enrolled; the rates are shares of all
// enrollments of the cohort, in per cent. Largest cohorts first.
// param limit: integer 1..1000000 = 200  how many cohorts to list
MATCH (l:Learner)-[e:ENROLLED_IN]->(p:Program)
WHERE $includeMissing OR l.missingSince IS NULL
WITH p, count(e) AS enrollments,
     sum(CASE WHEN e.enrollmentStatus = 'Graduated' THEN 1 ELSE 0 END) AS graduated,
     sum(CASE WHEN e.enrollmentStatus = 'Dropped Out' THEN 1 ELSE 0 END) AS droppedOut
RETURN p.name AS program, p.id AS cohort, enrollments, graduated, droppedOut,
       enrollments - graduated - droppedOut AS stillEnrolled,
       round(1000.0 * graduated / enrollments) / 10.0 AS completionRate,
       round(1000.0 * droppedOut / enrollments) / 10.0 AS dropOutRate
ORDER BY enrollments DESC, program, cohort
LIMIT $limit
