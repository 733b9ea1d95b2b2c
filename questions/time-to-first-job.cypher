// Time from graduation to first job, per program
// For every graduation (an ENROLLED_IN with a graduationDate), the first
// job (WORKS_FOR) that started on or after that date; days between them as
// quartiles. Graduations with no job since count in `graduations` only.
MATCH (l:Learner)-[e:ENROLLED_IN]->(p:Program)
WHERE ($includeMissing OR l.missingSince IS NULL) AND e.graduationDate IS NOT NULL
OPTIONAL MATCH (l)-[w:WORKS_FOR]->(:Company)
WHERE w.startDate >= e.graduationDate
WITH p.name AS program, e, min(w.startDate) AS firstJob
WITH program, e, CASE WHEN firstJob IS NULL THEN null
                      ELSE duration.inDays(e.graduationDate, firstJob).days END AS days
RETURN program, count(e) AS graduations, count(days) AS withJob,
       percentileCont(days, 0.25) AS q1Days,
       percentileCont(days, 0.5) AS medianDays,
       percentileCont(days, 0.75) AS q3Days
ORDER BY graduations DESC, program
