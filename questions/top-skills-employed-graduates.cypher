// Top skills of employed graduates
// Skills of learners whose current learning state is Graduate and who
// work now (currentProfessionalStatus other than Unemployed).
// param limit: integer 1..1000000 = 20  how many skills to list
MATCH (l:Learner)-[:HAS_SKILL]->(s:Skill)
WHERE ($includeMissing OR l.missingSince IS NULL)
  AND l.currentLearningState = 'Graduate' AND l.currentProfessionalStatus <> 'Unemployed'
RETURN s.id AS skill, s.name AS name, count(l) AS learners
ORDER BY learners DESC, skill
LIMIT $limit
