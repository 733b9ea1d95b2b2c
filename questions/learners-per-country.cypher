// Learners per country: residents and learners from it
// For each country: how many learners live there (countryOfResidenceCode)
// and how many come from it (countryOfOriginCode), with the Country node's
// name, the most residents first.
// param limit: integer 1..1000000 = 50  how many countries to list
MATCH (l:Learner)
WHERE $includeMissing OR l.missingSince IS NULL
UNWIND [[l.countryOfResidenceCode, 1, 0], [l.countryOfOriginCode, 0, 1]] AS side
WITH side[0] AS code, side[1] AS resident, side[2] AS origin
WHERE code IS NOT NULL
WITH code, sum(resident) AS residents, sum(origin) AS fromCountry
OPTIONAL MATCH (c:Country {code: code})
RETURN code AS country, c.name AS name, residents, fromCountry
ORDER BY residents DESC, fromCountry DESC, country
LIMIT $limit
