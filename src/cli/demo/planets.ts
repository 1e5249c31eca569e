/**
 * The demo DataNet's rows: facts about the planets as instruction/response pairs. Each contributor holds the
 * facts of two planets and nobody else has them, so later stages can check that answers are attributed to the
 * contributor whose data taught them.
 */
interface Planet {
  name: string;
  diameter: string;
  moons: string;
  day: string;
  year: string;
  distance: string;
  feature: string;
  temperature: string;
}

const planets: Planet[] = [
  {
    name: 'Mercury',
    diameter: '4,879 kilometres',
    moons: 'no moons',
    day: '59 Earth days',
    year: '88 Earth days',
    distance: '58 million kilometres',
    feature: 'Mercury is the smallest planet and the closest to the Sun.',
    temperature: 'Mercury swings from minus 173 to 427 degrees Celsius.',
  },
  {
    name: 'Venus',
    diameter: '12,104 kilometres',
    moons: 'no moons',
    day: '243 Earth days, turning backwards',
    year: '225 Earth days',
    distance: '108 million kilometres',
    feature: 'Venus has a thick atmosphere of carbon dioxide with clouds of sulfuric acid.',
    temperature: 'Venus is the hottest planet at about 465 degrees Celsius.',
  },
  {
    name: 'Earth',
    diameter: '12,742 kilometres',
    moons: 'one moon, the Moon',
    day: '24 hours',
    year: '365.25 days',
    distance: '150 million kilometres',
    feature: 'Earth is the only planet known to host life, and oceans cover 71 percent of it.',
    temperature: 'Earth averages about 15 degrees Celsius.',
  },
  {
    name: 'Mars',
    diameter: '6,779 kilometres',
    moons: 'two moons, Phobos and Deimos',
    day: '24.6 hours',
    year: '687 Earth days',
    distance: '228 million kilometres',
    feature: 'Mars has Olympus Mons, the tallest volcano in the solar system.',
    temperature: 'Mars averages about minus 63 degrees Celsius.',
  },
  {
    name: 'Jupiter',
    diameter: '139,820 kilometres',
    moons: '95 known moons',
    day: '9.9 hours',
    year: '11.9 Earth years',
    distance: '778 million kilometres',
    feature: 'Jupiter has the Great Red Spot, a storm larger than Earth.',
    temperature: 'Jupiter cloud tops are about minus 110 degrees Celsius.',
  },
  {
    name: 'Saturn',
    diameter: '116,460 kilometres',
    moons: '146 known moons',
    day: '10.7 hours',
    year: '29.4 Earth years',
    distance: '1.43 billion kilometres',
    feature: 'Saturn has bright rings of ice and is less dense than water.',
    temperature: 'Saturn cloud tops are about minus 140 degrees Celsius.',
  },
  {
    name: 'Uranus',
    diameter: '50,724 kilometres',
    moons: '28 known moons',
    day: '17.2 hours',
    year: '84 Earth years',
    distance: '2.87 billion kilometres',
    feature: 'Uranus rotates on its side, tilted by 98 degrees.',
    temperature: 'Uranus is about minus 195 degrees Celsius.',
  },
  {
    name: 'Neptune',
    diameter: '49,244 kilometres',
    moons: '16 known moons',
    day: '16.1 hours',
    year: '165 Earth years',
    distance: '4.5 billion kilometres',
    feature: 'Neptune has the fastest winds in the solar system, up to 2,100 kilometres per hour.',
    temperature: 'Neptune is about minus 200 degrees Celsius.',
  },
];

export interface FactRow {
  instruction: string;
  response: string;
}

function factsOf(p: Planet): FactRow[] {
  return [
    { instruction: `What is the diameter of ${p.name}?`, response: `The diameter of ${p.name} is ${p.diameter}.` },
    { instruction: `How many moons does ${p.name} have?`, response: `${p.name} has ${p.moons}.` },
    { instruction: `How long is a day on ${p.name}?`, response: `A day on ${p.name} lasts ${p.day}.` },
    { instruction: `How long is a year on ${p.name}?`, response: `A year on ${p.name} lasts ${p.year}.` },
    { instruction: `How far is ${p.name} from the Sun?`, response: `${p.name} is ${p.distance} from the Sun.` },
    { instruction: `What is special about ${p.name}?`, response: p.feature },
    { instruction: `How hot is ${p.name}?`, response: p.temperature },
  ];
}

/** The facts of contributor `i` (of 4): two planets each. */
export function contributorFacts(i: number): FactRow[] {
  return planets.slice(2 * i, 2 * i + 2).flatMap(factsOf);
}

export const planetSchema = {
  type: 'object',
  required: ['instruction', 'response'],
  properties: { instruction: { type: 'string', minLength: 3 }, response: { type: 'string', minLength: 1 } },
  additionalProperties: false,
} as const;

/** The demo's questions, each with the key phrase of the fact that answers it (its row's response holds it). */
export const PLANET_QUESTIONS = [
  { question: 'How many moons does Mars have?', expected: 'Phobos and Deimos' },
  { question: 'What is the diameter of Jupiter?', expected: '139,820 kilometres' },
  { question: 'How long is a year on Saturn?', expected: '29.4 Earth years' },
  { question: 'What is special about Uranus?', expected: 'rotates on its side' },
  { question: 'How far is Neptune from the Sun?', expected: '4.5 billion kilometres' },
  { question: 'How hot is Venus?', expected: '465 degrees' },
] as const;

/**
 * Questions worded differently from every row, written for the demo's retrieval check (never trained on), each with
 * the key phrase of the fact that answers it.
 */
export const heldOutQuestions = [
  { question: 'How wide is Jupiter?', expected: '139,820 kilometres' },
  { question: 'How many natural satellites orbit Mars?', expected: 'Phobos and Deimos' },
  { question: 'What is the distance between Venus and the Sun?', expected: '108 million kilometres' },
  { question: 'How many days does Mercury take to go around the Sun?', expected: '88 Earth days' },
  { question: 'What makes Saturn unusual?', expected: 'rings of ice' },
  { question: 'What is the temperature on Neptune?', expected: 'minus 200 degrees' },
  { question: 'How long does Uranus take to orbit the Sun?', expected: '84 Earth years' },
  { question: 'How big is Earth across?', expected: '12,742 kilometres' },
  { question: "What is Earth's distance from the Sun?", expected: '150 million kilometres' },
  { question: 'Tell me the diameter of Neptune.', expected: '49,244 kilometres' },
  { question: "What is Saturn's orbital period?", expected: '29.4 Earth years' },
  { question: 'How many moons orbit Jupiter?', expected: '95 known moons' },
] as const;
