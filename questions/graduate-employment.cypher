// Employment rate of graduates per program
// Learners who graduated from a program (an ENROLLED_IN with status
// Graduated), how many of them work now (currentProfessionalStatus other
// than Unemployed) and how many were placed (isPlaced), in per cent.
MATCH (l:Learner)-[e:ENROLLED_IN]->(p:Program)
WHERE ($includeMissing OR l.missingSince IS NULL) AND e.enrollmentStatus = 'Graduated'
WITH p.name AS program, l
WITH program, count(DISTINCT l) AS graduates,
     count(DISTINCT CASE WHEN l.currentProfessionalStatus <> 'Unemployed' THEN l END) AS employed,
     count(DISTINCT CASE WHEN l.isPlaced = true THEN l END) AS placed
RETURN program, graduates, employed,
       round(1000.0 * employed / graduates) / 10.0 AS employmentRate,
       placed,
       round(1000.0 * placed / graduates) / 10.0 AS placementRate
ORDER BY graduates DESC, program
