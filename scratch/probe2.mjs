import pkg from 'node-sql-parser';
const { Parser } = pkg;
const p = new Parser();
const sql = "select `a`.`actor_id` AS `actor_id`,group_concat(distinct concat(`c`.`name`,': ',(select group_concat(`f`.`title` order by `f`.`title` ASC separator ', ') from `tr_scratch`.`film` `f` join `tr_scratch`.`film_category` `fc` on(`f`.`film_id` = `fc`.`film_id`) where `fc`.`category_id` = `c`.`category_id`)) order by `c`.`name` ASC separator '; ') AS `film_info`, if(`a`.x, 'a', 'b') as y, 5 div 2 as z, `a`.j ->> '$.k' as jj, cast(x as char(10)) c1, cast(x as signed) c2, date_format(d, '%Y') df, 'it\\'s' s1, x like 'a%' l, interval_test + interval 1 day it from `tr_scratch`.`actor` `a` left join `tr_scratch`.`film_actor` `fa` on(`a`.`actor_id` = `fa`.`actor_id`) group by `a`.`actor_id` having count(*) > 1 order by 1 limit 5";
const ast = p.astify(sql, { database: 'MySQL' });
console.log(JSON.stringify(ast, null, 1));
