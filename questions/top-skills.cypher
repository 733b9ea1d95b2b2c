// Top skills of all learners
// Skills (HAS_SKILL) by the number of learners who list them.
// param limit: integer 1..1000000 = 20  how many skills to list
MATCH (l:Learner)-[:HAS_SKILL]->(s:Skill)
WHERE $includeMissing OR l.missingSince IS NULL
RETURN s.id AS skill, s.name AS name, count(l) AS learners
ORDER BY learners DESC, skill
LIMIT $limit
